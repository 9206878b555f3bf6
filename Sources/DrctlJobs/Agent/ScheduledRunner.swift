import Foundation
import Logging
import DrctlPolicy
import DrctlStorage

/// Runs one scheduled task with the same jobs the one-shot commands use.
public struct ScheduledRunner: Sendable {
    public let policy: Policy
    public let keys: KeyRing
    public let logger: Logger
    public let interruption: Interruption
    public let metrics: AgentMetrics

    public init(policy: Policy, keys: KeyRing, logger: Logger, interruption: Interruption, metrics: AgentMetrics) {
        self.policy = policy
        self.keys = keys
        self.logger = logger
        self.interruption = interruption
        self.metrics = metrics
    }

    /// A tick skipped because the same task was still running: counted, and for a backup
    /// told to the policy's channels (`backup_missed`).
    public func skipped(_ run: ScheduledRun) {
        metrics.record(run.task, result: .skipped)
        guard run.task.job == .backup else { return }
        let notifier = Notifier(channels: policy.notifications, logger: logger)
        Task {
            await notifier.send(Notification(
                event: .backupMissed, target: run.task.target,
                summary: "drctl backup of '\(run.task.target)' due at \(Timestamp.format(run.scheduledFor)) "
                    + "did not run: the previous backup was still running"))
        }
    }

    public func run(_ scheduled: ScheduledRun) async {
        let started = Date()
        var logger = self.logger
        logger[metadataKey: "target"] = "\(scheduled.task.target)"
        logger[metadataKey: "job"] = "\(scheduled.task.job)"
        let runner = JobRunner(JobContext(policy: policy, keys: .success(keys), logger: logger, interruption: interruption))
        do {
            switch scheduled.task.job {
            case .backup:
                guard let target = policy.target(named: scheduled.task.target) else { return }
                let manifest: BackupManifest
                do {
                    manifest = try await runner.run(BackupJob(target: target))
                } catch let locked as TargetLockedError {
                    // Another agent (or a one-shot run) has this target: that run is the one for this tick.
                    logger.notice("scheduled backup skipped: another run holds the target", metadata: ["holder": "\(locked)"])
                    metrics.record(scheduled.task, result: .skipped)
                    return
                } catch {
                    await backupFinished(target.name, nil, error: error, started: started, logger: logger)
                    throw error
                }
                await backupFinished(target.name, manifest, error: nil, started: started, logger: logger)
                logger.info("scheduled backup done", metadata: ["backup": "\(manifest.backupID)", "status": "\(manifest.status.rawValue)"])
            case .report:
                guard let directory = policy.agent.reportDirectory else { return }
                let paths = try await runner.run(ScheduledReport(directory: directory))
                logger.info("scheduled report written", metadata: ["files": "\(paths.joined(separator: ", "))"])
            case .prune:
                guard let target = policy.target(named: scheduled.task.target) else { return }
                let report = try await runner.run(PruneJob(target: target, dryRun: false))
                if let holder = report.lockedBy {
                    logger.notice("scheduled prune skipped: another run holds the target", metadata: ["holder": "\(holder)"])
                    metrics.record(scheduled.task, result: .skipped)
                    return
                }
                logger.info("scheduled prune done", metadata: [
                    "removed": "\(report.removed.count)", "kept": "\(report.kept.count)", "leftovers": "\(report.leftovers.count)",
                ])
                if !report.errors.isEmpty { throw AgentRunError(errors: report.errors) }
            case .drill:
                guard let target = policy.target(named: scheduled.task.target) else { return }
                let record = await runner.run(DrillJob(target: target))
                let families = await DrillAftermath.report(policy: policy, record: record, served: true, logger: logger)
                metrics.update(target: target.name, families: families)
                logger.info("scheduled drill done", metadata: ["drill": "\(record.drillID)", "result": "\(record.result.rawValue)"])
                if record.result == .failed { throw AgentRunError(errors: record.reasons) }
            }
            metrics.record(scheduled.task, result: .success, duration: Date().timeIntervalSince(started))
        } catch {
            logger.error("scheduled run failed", metadata: ["error": "\(error)"])
            metrics.record(scheduled.task, result: .failure, duration: Date().timeIntervalSince(started))
        }
    }
}

extension ScheduledRunner {
    /// After a scheduled backup: metrics (also served on /metrics) and notifications.
    func backupFinished(_ target: String, _ manifest: BackupManifest?, error: Error?, started: Date, logger: Logger) async {
        let families = await BackupAftermath.report(policy: policy, target: target, manifest: manifest, error: error,
                                                    startedAt: started, served: true, logger: logger)
        metrics.update(target: target, families: families)
    }
}

/// A scheduled run that finished but reported problems (e.g. a prune that could not remove everything).
struct AgentRunError: Error, CustomStringConvertible {
    let errors: [String]
    var description: String { errors.joined(separator: "; ") }
}
