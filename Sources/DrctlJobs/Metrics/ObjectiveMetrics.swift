import DrctlPolicy

/// `drctl_objective_rpo_seconds` and `drctl_objective_rto_seconds` of one target: what its last
/// good backup and its drills are judged against. Every output that carries those carries these
/// too, backups' as well as drills' (a host that backs up and never drills still gets
/// DrctlBackupMissed against its RPO). In a textfile directory they have a file of their own,
/// `drctl_<target>_objectives.prom`, which every run rewrites: node_exporter refuses a series
/// that two files repeat.
public enum ObjectiveMetrics {
    public static let names: Set<String> = ["drctl_objective_rpo_seconds", "drctl_objective_rto_seconds"]
    /// The textfile's "command" part: `drctl_<target>_objectives.prom`.
    public static let textfileCommand = "objectives"

    /// A family without a value has no sample (an objective the policy does not state).
    public static func families(target: String, rpo: Double?, rto: Double?) -> [MetricFamily] {
        [("drctl_objective_rpo_seconds", "The target's recovery point objective.", rpo),
         ("drctl_objective_rto_seconds", "The target's recovery time objective.", rto)].map { name, help, value in
            MetricFamily(name, .gauge, help: help, samples: value.map { [.init(labels: [("target", target)], value: $0)] } ?? [])
        }
    }

    /// The objectives the policy states for `target`.
    public static func families(of target: TargetPolicy) -> [MetricFamily] {
        families(target: target.name, rpo: target.objectives?.rpo.map { Double(PolicyDuration.seconds($0)) },
                 rto: target.objectives?.rto.map { Double(PolicyDuration.seconds($0)) })
    }
}
