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
            let policy = try policyOptions.load(warningOn: logger)
            let settings = policy.agent
            let plan = AgentPlan(policy: policy)
            guard !plan.tasks.isEmpty else { throw AgentError.nothingScheduled }
            let keys = try KeyRing(policy: policy.repository.encryption)
            let repository = try Repository(policy: policy.repository)
            let history = plan.history(in: repository, targets: policy.targets.map(\.name), logger: logger)
            let schedule = RunSchedule(
                tasks: plan.tasks, startingAt: Date(), lastRuns: settings.catchUp == nil ? [:] : history.lastRuns,
                catchUpWindow: settings.catchUp.map { Double(PolicyDuration.seconds($0)) } ?? 0,
                jitter: RunSchedule.randomJitter(upTo: settings.jitter.map { Double(PolicyDuration.seconds($0)) } ?? 0))
            let metrics = AgentMetrics(policy: policy, lastBackupSuccess: history.lastBackupSuccess)
            let interruption = Interruption()
            let runner = ScheduledRunner(policy: policy, keys: keys, logger: logger, interruption: interruption, metrics: metrics)
            let agent = Agent(schedule: schedule, grace: settings.shutdownGrace, logger: logger,
                              abort: { interruption.interrupt(signal: "SIGTERM") }, skipped: runner.skipped,
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
