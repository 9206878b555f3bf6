import ArgumentParser
import Foundation
import Glibc
import Logging
import DrctlJobs
import DrctlPolicy
import DrctlStorage

struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run as a daemon: every target's schedules, /metrics and /healthz, until SIGTERM.",
        discussion: """
            Runs each target's backup schedule (cron, in the target's time zone), never two runs of one \
            target at once; a run missed while the agent was down is run once at start-up if it is at \
            most agent.catch_up old. Serves /metrics and /healthz on agent.listen (default \
            127.0.0.1:9187). SIGTERM or SIGINT: no new run starts, running backups are aborted (nothing \
            half-written is committed), and the agent exits 0 within agent.shutdown_grace.
            """)

    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup var log: LogOptions

    @Option(name: .long, help: "Serve /metrics and /healthz here instead of agent.listen (HOST:PORT).")
    var listen: String?

    func run() async throws {
        try await guarded {
            let logger = log.bootstrap()
            let policy = try policyOptions.load()
            let settings = policy.agent
            let plan = AgentPlan(policy: policy)
            guard !plan.tasks.isEmpty else { throw AgentError.nothingScheduled }
            let keys = try KeyRing(policy: policy.repository.encryption)
            let repository = try Repository(policy: policy.repository)
            let lastRuns = settings.catchUp == nil ? [:] : plan.lastRuns(in: repository)
            let schedule = RunSchedule(
                tasks: plan.tasks, startingAt: Date(), lastRuns: lastRuns,
                catchUpWindow: settings.catchUp.map { Double(PolicyDuration.seconds($0)) } ?? 0,
                jitter: RunSchedule.randomJitter(upTo: settings.jitter.map { Double(PolicyDuration.seconds($0)) } ?? 0))
            let metrics = AgentMetrics(policy: policy, lastBackupSuccess: plan.lastBackupSuccess(
                in: repository, targets: policy.targets.map(\.name)))
            let interruption = Interruption()
            let runner = ScheduledRunner(policy: policy, keys: keys, logger: logger, interruption: interruption, metrics: metrics)
            let notifier = Notifier(channels: policy.notifications, logger: logger)
            let agent = Agent(schedule: schedule, grace: settings.shutdownGrace, logger: logger,
                              abort: { interruption.interrupt(signal: "SIGTERM") },
                              skipped: { run in
                                  metrics.record(run.task, result: .skipped)
                                  guard run.task.job == .backup else { return }
                                  Task {
                                      await notifier.send(Notification(
                                          event: .backupMissed, target: run.task.target,
                                          summary: "drctl backup of '\(run.task.target)' due at \(Timestamp.format(run.scheduledFor)) "
                                              + "did not run: the previous backup was still running"))
                                  }
                              },
                              runner: runner.run)
            let endpoint = try StatusEndpoint(listen: listen ?? settings.listen, routes: .init(
                metrics: { metrics.render() },
                health: { agent.isStopping ? (false, "stopping") : (true, "ok") }))
            Signals.onTermination { signal in
                logger.notice("stopping: no new runs; aborting running ones", metadata: ["signal": "\(signal)"])
                agent.stop()
            }
            logger.notice("agent started", metadata: [
                "listen": "\(endpoint.address)", "tasks": "\(plan.tasks.count)",
                "schedule": "\(plan.tasks.map(\.description).joined(separator: "; "))",
            ])
            await agent.run()
            endpoint.stop()
            logger.notice("agent stopped", metadata: ["runs": "\(agent.runsStarted)", "skipped": "\(agent.runsSkipped)"])
        }
    }
}

/// Runs one scheduled task with the same jobs the one-shot commands use.
struct ScheduledRunner: Sendable {
    let policy: Policy
    let keys: KeyRing
    let logger: Logger
    let interruption: Interruption
    let metrics: AgentMetrics

    func run(_ scheduled: ScheduledRun) async {
        let started = Date()
        var logger = self.logger
        logger[metadataKey: "target"] = "\(scheduled.task.target)"
        logger[metadataKey: "job"] = "\(scheduled.task.job)"
        do {
            switch scheduled.task.job {
            case .backup:
                guard let target = policy.target(named: scheduled.task.target) else { return }
                let manifest: BackupManifest
                do {
                    manifest = try await BackupJob(policy: policy, target: target, keys: keys, logger: logger,
                                                   interruption: interruption).run()
                } catch let locked as TargetLockedError {
                    // Another agent (or a one-shot run) has this target: that run is the one for this tick.
                    logger.notice("scheduled backup skipped: another run holds the target", metadata: ["holder": "\(locked)"])
                    metrics.record(scheduled.task, result: .skipped)
                    return
                } catch {
                    await publishBackupMetrics(target.name, nil, started: started, logger: logger)
                    await Notifier(channels: policy.notifications, logger: logger).backupFinished(
                        target: target.name, manifest: nil, error: error, startedAt: started, repository: policy.repository)
                    throw error
                }
                await publishBackupMetrics(target.name, manifest, started: started, logger: logger)
                await Notifier(channels: policy.notifications, logger: logger).backupFinished(
                    target: target.name, manifest: manifest, error: nil, startedAt: started, repository: policy.repository)
                logger.info("scheduled backup done", metadata: ["backup": "\(manifest.backupID)", "status": "\(manifest.status.rawValue)"])
            case .report:
                guard let directory = policy.agent.reportDirectory else { return }
                let paths = try ScheduledReport(policy: policy, directory: directory, logger: logger).write()
                logger.info("scheduled report written", metadata: ["files": "\(paths.joined(separator: ", "))"])
            case .prune:
                guard let target = policy.target(named: scheduled.task.target) else { return }
                let (policy, logger) = (self.policy, logger)
                let report = try await OffPool.run { try PruneJob(policy: policy, target: target, dryRun: false, logger: logger).run() }
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
                let record = await DrillJob(policy: policy, target: target, keys: keys, scratchRoot: ScratchRoot(),
                                            logger: logger, interruption: interruption).run()
                let families = await MetricsPublisher.drillFamilies(record, repository: policy.repository)
                metrics.update(target: target.name, families: families)
                await MetricsPublisher(policy: policy.metrics, logger: logger).publish(families, command: "drill", target: target.name)
                await Notifier(channels: policy.notifications, logger: logger).drillFinished(record)
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
    /// The same families a one-shot `drctl backup` publishes: served on /metrics, and written or
    /// pushed where the policy's `metrics:` says.
    func publishBackupMetrics(_ target: String, _ manifest: BackupManifest?, started: Date, logger: Logger) async {
        let families = await MetricsPublisher.backupFamilies(target: target, manifest: manifest, startedAt: started,
                                                             durationSeconds: Date().timeIntervalSince(started),
                                                             repository: policy.repository)
        metrics.update(target: target, families: families)
        await MetricsPublisher(policy: policy.metrics, logger: logger).publish(families, command: "backup", target: target)
    }
}

/// A scheduled run that finished but reported problems (e.g. a prune that could not remove everything).
struct AgentRunError: Error, CustomStringConvertible {
    let errors: [String]
    var description: String { errors.joined(separator: "; ") }
}
