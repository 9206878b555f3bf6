import Foundation
import DrctlPolicy
import DrctlStorage

/// What `drctl agent` schedules, read from the policy, and when each task last ran, read from
/// the repository (manifests, failure and drill records: no local state), for catch-up.
public struct AgentPlan: Sendable {
    public let tasks: [ScheduledTask]
    private let reportDirectory: String?

    /// The jobs this build of the agent can run on a schedule.
    public static let schedulable: Set<AgentJob> = Set(AgentJob.allCases)

    public init(policy: Policy) {
        var tasks: [ScheduledTask] = []
        for target in policy.targets {
            if let cron = target.schedule {
                tasks.append(ScheduledTask(target: target.name, job: .backup, cron: cron, timeZone: target.timeZone))
            }
            if let drill = target.drill, drill.enabled, let cron = drill.schedule {
                tasks.append(ScheduledTask(target: target.name, job: .drill, cron: cron, timeZone: target.timeZone))
            }
            if target.retention != nil, let cron = policy.agent.pruneSchedule {
                tasks.append(ScheduledTask(target: target.name, job: .prune, cron: cron, timeZone: policy.agent.timeZone))
            }
        }
        if let cron = policy.agent.reportSchedule {
            tasks.append(ScheduledTask(target: AgentPlan.reportTarget, job: .report, cron: cron, timeZone: policy.agent.timeZone))
        }
        self.tasks = tasks.filter { Self.schedulable.contains($0.job) }
        reportDirectory = policy.agent.reportDirectory
    }

    /// The report covers every target: it runs under this name, apart from any target's runs.
    public static let reportTarget = "(report)"

    /// The newest committed backup of each target (any region): where the agent's
    /// `drctl_backup_last_success_timestamp_seconds` starts.
    public func lastBackupSuccess(in repository: Repository, targets: [String]) -> [String: Date] {
        var result: [String: Date] = [:]
        for target in targets {
            for region in repository.regions {
                guard let newest = (try? repository.manifests(in: region, target: target))?.map(\.finishedAt).max() else { continue }
                result[target] = max(result[target] ?? newest, newest)
            }
        }
        return result
    }

    /// When each backup and drill task last ran (started), merged over the regions, and when
    /// last month's report was written. A task whose history cannot be read gets no entry, and
    /// so no catch-up.
    public func lastRuns(in repository: Repository) -> [ScheduledTask: Date] {
        var result: [ScheduledTask: Date] = [:]
        for task in tasks {
            switch task.job {
            case .backup:
                var newest: Date?
                for region in repository.regions {
                    if let manifests = try? repository.manifests(in: region, target: task.target) {
                        newest = ([newest].compactMap { $0 } + manifests.map(\.startedAt)).max()
                    }
                }
                let failures = repository.mergedRecords(FailureRecord.self, target: task.target).records
                newest = ([newest].compactMap { $0 } + failures.map(\.startedAt)).max()
                result[task] = newest
            case .drill:
                result[task] = repository.mergedRecords(DrillRecord.self, target: task.target).records.map(\.startedAt).max()
            case .report:
                // The report's history is its file: last month's, written when?
                guard let reportDirectory else { break }
                let month = ReportMonth.previous(to: Date())
                let path = "\(reportDirectory)/drctl-report-\(month).\(ReportFormat.html.rawValue)"
                let written = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
                result[task] = written ?? .distantPast
            case .prune:
                // No history of its own: taken as missed, so a start within catch_up of an
                // instant prunes once (prune is idempotent; a redundant run removes nothing).
                result[task] = .distantPast
            }
        }
        return result
    }
}
