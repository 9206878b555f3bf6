import Foundation
import Logging
import DrctlPolicy
import DrctlStorage

/// What `drctl agent` schedules, read from the policy, and when each task last ran, read from
/// the repository (manifests, failure and drill records: no local state), for catch-up.
public struct AgentPlan: Sendable {
    public let tasks: [ScheduledTask]
    private let reportDirectory: String?

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
        self.tasks = tasks
        reportDirectory = policy.agent.reportDirectory
    }

    /// The report covers every target: it runs under this name, apart from any target's runs.
    public static let reportTarget = "(report)"

    /// What the agent starts from, read once from the repository (no local state): when each
    /// task last ran, for catch-up, and each target's newest committed backup, where
    /// `drctl_backup_last_success_timestamp_seconds` starts.
    public struct History: Sendable {
        public var lastRuns: [ScheduledTask: Date] = [:]
        public var lastBackupSuccess: [String: Date] = [:]
    }

    /// Each target's manifests are listed once (merged over the regions) and serve both. A
    /// backup's last run is its newest manifest or failure record; a drill's its newest drill
    /// record; the report's the time last month's file was written. A task whose history cannot
    /// be read gets no entry, and so no catch-up.
    public func history(in repository: Repository, targets: [String], logger: Logger) -> History {
        var history = History()
        var manifests: [String: [BackupManifest]] = [:]
        for target in targets {
            manifests[target] = RepositoryHistory.manifests(repository, target: target, logger: logger)
            history.lastBackupSuccess[target] = manifests[target]?.map(\.finishedAt).max()
        }
        for task in tasks {
            switch task.job {
            case .backup:
                let failures = RepositoryHistory.records(FailureRecord.self, repository, target: task.target, logger: logger)
                    .filter(\.isBackupFailure)
                let started = manifests[task.target, default: []].map(\.startedAt)
                history.lastRuns[task] = (started + failures.map(\.startedAt)).max()
            case .drill:
                history.lastRuns[task] = RepositoryHistory.records(DrillRecord.self, repository, target: task.target, logger: logger)
                    .map(\.startedAt).max()
            case .report:
                // The report's history is its file: last month's, written when?
                guard let reportDirectory else { break }
                let month = ReportMonth.previous(to: Date())
                let path = ScheduledReport.path(in: reportDirectory, month: month, format: .html)
                let written = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
                history.lastRuns[task] = written ?? .distantPast
            case .prune:
                // No history of its own: taken as missed, so a start within catch_up of an
                // instant prunes once (prune is idempotent; a redundant run removes nothing).
                history.lastRuns[task] = .distantPast
            }
        }
        return history
    }
}
