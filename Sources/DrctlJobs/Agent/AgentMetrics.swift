import Foundation
import Synchronization
import DrctlPolicy

/// What `/metrics` shows: the agent's own runs, and per target the same families one-shot runs
/// publish (BackupMetrics, DrillMetrics: counted from the repository), replaced after each of
/// the agent's runs. Before a target's first run: its objectives and its last good backup as
/// the repository holds it at start-up.
public final class AgentMetrics: Sendable {
    public enum Result: String, Sendable { case success, failure, skipped }

    private struct State {
        var runs: [String: Int] = [:]            // "job|target|result" → count
        var lastDuration: [String: Double] = [:] // "job|target" → seconds
        /// target → family name → that target's family.
        var targets: [String: [String: MetricFamily]] = [:]
    }

    private let started: Date
    private let state = Mutex(State())

    public init(policy: Policy, lastBackupSuccess: [String: Date] = [:], started: Date = Date()) {
        self.started = started
        for target in policy.targets {
            update(target: target.name, families: [BackupMetrics.lastSuccess(target: target.name, at: lastBackupSuccess[target.name])]
                + ObjectiveMetrics.families(of: target))
        }
    }

    public func record(_ task: ScheduledTask, result: Result, duration: Double? = nil) {
        state.withLock { state in
            state.runs["\(task.job.rawValue)|\(task.target)|\(result.rawValue)", default: 0] += 1
            if let duration { state.lastDuration["\(task.job.rawValue)|\(task.target)"] = duration }
        }
    }

    /// Replaces these families of one target (others of the target stay).
    public func update(target: String, families: [MetricFamily]) {
        state.withLock { state in
            for family in families { state.targets[target, default: [:]][family.name] = family }
        }
    }

    /// Prometheus text exposition format 0.0.4; each family once, its samples from every target.
    public func render() -> String {
        let state = state.withLock { $0 }
        func split(_ key: String) -> [String] { key.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
        var families = [
            MetricFamily("drctl_agent_start_time_seconds", .gauge, help: "When this agent started (Unix time).",
                         samples: [.init(labels: [], value: started.timeIntervalSince1970)]),
            MetricFamily("drctl_agent_runs_total", .counter, help: "Scheduled runs by job, target and result since the agent started.",
                         samples: state.runs.sorted { $0.key < $1.key }.map { key, count in
                             let parts = split(key)
                             return .init(labels: [("job", parts[0]), ("target", parts[1]), ("result", parts[2])], value: Double(count))
                         }),
            MetricFamily("drctl_agent_run_duration_seconds", .gauge, help: "Duration of the last scheduled run by job and target.",
                         samples: state.lastDuration.sorted { $0.key < $1.key }.map { key, seconds in
                             let parts = split(key)
                             return .init(labels: [("job", parts[0]), ("target", parts[1])], value: (seconds * 1000).rounded() / 1000)
                         }),
        ]
        var merged: [String: MetricFamily] = [:]
        for target in state.targets.keys.sorted() {
            for family in state.targets[target]!.values.sorted(by: { $0.name < $1.name }) {
                if merged[family.name] == nil {
                    merged[family.name] = MetricFamily(family.name, family.kind, help: family.help, samples: [])
                }
                merged[family.name]!.samples += family.samples
            }
        }
        families += merged.keys.sorted().map { merged[$0]! }
        return TextExposition.render(families)
    }
}
