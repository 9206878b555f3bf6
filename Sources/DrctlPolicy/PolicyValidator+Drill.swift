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

    /// `drill.into: {host, port, user, password, sslmode}`: a server drills restore into (postgres only).
    func drillInto(_ fields: Fields, kind: TargetKind?, into drill: inout DrillPolicy) {
        guard let node = fields["into"] else { return }
        if let kind, kind != .postgres {
            report(fields.keyNode("into"), fields.path("into"),
                   "'into' is only supported for kind postgres (this target is kind \(kind.rawValue)); other kinds drill into a scratch instance")
            return
        }
        drill.into = postgresConnection(node, fields.path("into"))
        if node.mapping?["databases"] != nil {
            report(node, fields.path("into"), "'databases' has no meaning here: a drill restores the backup's databases")
        }
    }
}
