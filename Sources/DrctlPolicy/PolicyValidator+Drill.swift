import Yams

extension PolicyValidator {
    /// `drill.pick: latest | random` and `drill.window: DURATION` (only with random).
    func drillPick(_ fields: Fields, into drill: inout DrillPolicy) {
        if let node = fields["pick"], let pick = choice(node, fields.path("pick"), DrillPick.self, what: "pick") {
            drill.pick = pick
        }
        if let node = fields["window"] {
            drill.window = duration(node, fields.path("window"))
            if drill.pick != .random {
                report(fields.keyNode("window"), fields.path("window"), "'window' is only used with 'pick: random'")
            }
        }
    }
}
