import Foundation
import Synchronization
import DrctlPolicy

/// What the agent itself knows and `/metrics` shows: when it started, how its scheduled runs
/// ended, each target's objectives, and each target's last successful backup (from the
/// repository at start-up, then from its own runs).
public final class AgentMetrics: Sendable {
    public enum Result: String, Sendable { case success, failure, skipped }

    private struct Counts {
        var runs: [String: Int] = [:]            // "job|target|result" → count
        var lastBackupSuccess: [String: Date] = [:]
        var lastDuration: [String: Double] = [:] // "job|target" → seconds
        var backups: [String: Int] = [:]         // "target|complete|degraded|failed" → count
    }

    private let started: Date
    private let counts = Mutex(Counts())
    /// target → (rpo, rto) in seconds.
    private let objectives: [(target: String, rpo: Int64?, rto: Int64?)]

    public init(policy: Policy, lastBackupSuccess: [String: Date] = [:], started: Date = Date()) {
        self.started = started
        objectives = policy.targets.compactMap { target in
            target.objectives.map { (target.name, $0.rpo.map(PolicyDuration.seconds), $0.rto.map(PolicyDuration.seconds)) }
        }
        counts.withLock { $0.lastBackupSuccess = lastBackupSuccess }
    }

    public func record(_ task: ScheduledTask, result: Result, duration: Double? = nil, at end: Date = Date()) {
        counts.withLock { counts in
            counts.runs["\(task.job.rawValue)|\(task.target)|\(result.rawValue)", default: 0] += 1
            if let duration { counts.lastDuration["\(task.job.rawValue)|\(task.target)"] = duration }
            if task.job == .backup, result == .success { counts.lastBackupSuccess[task.target] = end }
        }
    }

    /// A backup run's outcome: `complete`, `degraded` or `failed` (drctl_backup_total).
    public func recordBackup(target: String, result: String) {
        counts.withLock { $0.backups["\(target)|\(result)", default: 0] += 1 }
    }

    /// Prometheus text exposition format 0.0.4.
    public func render() -> String {
        let counts = counts.withLock { $0 }
        var out = """
            # HELP drctl_agent_start_time_seconds When this agent started (Unix time).
            # TYPE drctl_agent_start_time_seconds gauge
            drctl_agent_start_time_seconds \(Self.number(started.timeIntervalSince1970))
            # HELP drctl_agent_runs_total Scheduled runs by job, target and result since the agent started.
            # TYPE drctl_agent_runs_total counter

            """
        for (key, count) in counts.runs.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            out += "drctl_agent_runs_total{job=\"\(parts[0])\",target=\"\(Self.escape(parts[1]))\",result=\"\(parts[2])\"} \(count)\n"
        }
        out += """
            # HELP drctl_agent_run_duration_seconds Duration of the last scheduled run by job and target.
            # TYPE drctl_agent_run_duration_seconds gauge

            """
        for (key, seconds) in counts.lastDuration.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            out += "drctl_agent_run_duration_seconds{job=\"\(parts[0])\",target=\"\(Self.escape(parts[1]))\"} \(Self.number(seconds))\n"
        }
        out += """
            # HELP drctl_backup_last_success_timestamp_seconds When the last backup of the target committed (Unix time).
            # TYPE drctl_backup_last_success_timestamp_seconds gauge

            """
        for (target, date) in counts.lastBackupSuccess.sorted(by: { $0.key < $1.key }) {
            out += "drctl_backup_last_success_timestamp_seconds{target=\"\(Self.escape(target))\"} \(Self.number(date.timeIntervalSince1970))\n"
        }
        out += "# HELP drctl_backup_total Backups run by this agent by target and result.\n# TYPE drctl_backup_total counter\n"
        for (key, count) in counts.backups.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            out += "drctl_backup_total{target=\"\(Self.escape(parts[0]))\",result=\"\(parts[1])\"} \(count)\n"
        }
        for (family, help, pick) in [("drctl_objective_rpo_seconds", "The target's recovery point objective.", 1),
                                     ("drctl_objective_rto_seconds", "The target's recovery time objective.", 2)] {
            out += "# HELP \(family) \(help)\n# TYPE \(family) gauge\n"
            for objective in objectives {
                guard let value = pick == 1 ? objective.rpo : objective.rto else { continue }
                out += "\(family){target=\"\(Self.escape(objective.target))\"} \(value)\n"
            }
        }
        return out
    }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
