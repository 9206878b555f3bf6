import DrctlStorage

/// The metrics of a drill (DESIGN.md §8), from its record and the target's drill history in the
/// repository (counts and the last success come from the records, so they are the same from
/// whichever host runs the drill, and survive the host).
public struct DrillMetrics: Sendable {
    public let record: DrillRecord
    /// Every drill record of the target, this one included or not.
    public let history: [DrillRecord]

    public init(record: DrillRecord, history: [DrillRecord]) {
        self.record = record
        self.history = history
    }

    public var families: [MetricFamily] {
        let target = [("target", record.target)]
        var all = Dictionary(history.map { ($0.drillID, $0) }, uniquingKeysWith: { first, _ in first })
        all[record.drillID] = record
        let lastSuccess = all.values.filter { $0.result != .failed }.map(\.finishedAt).max()
        func one(_ name: String, help: String, _ value: Double?) -> MetricFamily {
            MetricFamily(name, .gauge, help: help, samples: value.map { [.init(labels: target, value: $0)] } ?? [])
        }
        return [
            one("drctl_drill_last_rto_seconds", help: "RTO of the last drill: start to a verified, queryable instance.", record.rtoSeconds),
            one("drctl_drill_last_rpo_seconds", help: "RPO at the last drill: age of the newest recoverable point.", record.rpoSeconds),
            one("drctl_drill_last_success_timestamp_seconds", help: "When the last drill that restored and verified finished.",
                lastSuccess?.timeIntervalSince1970),
            MetricFamily("drctl_drill_total", .counter, help: "Drills recorded in the repository, by result.",
                         samples: [DrillResult.passed, .objectivesMissed, .failed].map { result in
                             .init(labels: target + [("result", result.rawValue)],
                                   value: Double(all.values.filter { $0.result == result }.count))
                         }),
        ] + ObjectiveMetrics.families(target: record.target, rpo: record.objectives.rpoSeconds, rto: record.objectives.rtoSeconds)
    }
}
