import Foundation
import Logging
import Synchronization
import Testing
import DrctlJobs
import DrctlPolicy

/// The agent loop in real time: catch-up runs at start, stop() aborts what runs and returns
/// within the grace period even when a run ignores the abort.
@Suite struct AgentLoopTests {
    let logger = Logger(label: "test")

    func catchUpSchedule(targets: [String]) throws -> RunSchedule {
        let now = Date()
        let tasks = try targets.map { ScheduledTask(target: $0, job: .backup, cron: try CronExpression("* * * * *"),
                                                    timeZone: TimeZone(identifier: "UTC")!) }
        // Each last ran two minutes ago: the latest minute's instant was missed.
        return RunSchedule(tasks: tasks, startingAt: now,
                           lastRuns: Dictionary(uniqueKeysWithValues: tasks.map { ($0, now.addingTimeInterval(-120)) }),
                           catchUpWindow: 3600)
    }

    @Test func catchUpRunsAtStartAndStopAbortsTheRunningOnes() async throws {
        let aborted = Atomic<Bool>(false)
        let finished = Mutex<[String]>([])
        let agent = Agent(schedule: try catchUpSchedule(targets: ["a", "b"]), grace: .seconds(10), logger: logger,
                          abort: { aborted.store(true, ordering: .releasing) }) { run in
            // A run that ends when aborted.
            while !aborted.load(ordering: .acquiring) { try? await Task.sleep(for: .milliseconds(20)) }
            finished.withLock { $0.append(run.task.target) }
        }
        let loop = Task { await agent.run() }
        try await waitUntil { agent.runsInProgress == 2 }
        #expect(agent.runsStarted == 2)
        let stopAt = ContinuousClock.now
        agent.stop()
        await loop.value
        let wasAborted = aborted.load(ordering: .acquiring)
        #expect(wasAborted)
        #expect(finished.withLock { $0.sorted() } == ["a", "b"])
        // The runs end only when aborted. Generous bound: blocking suites running beside this one
        // can hold the cooperative pool's threads for many seconds.
        #expect(ContinuousClock.now - stopAt < .seconds(120))
    }

    @Test func stopReturnsAfterTheGraceEvenIfARunIgnoresTheAbort() async throws {
        let agent = Agent(schedule: try catchUpSchedule(targets: ["stuck"]), grace: .milliseconds(500), logger: logger,
                          abort: {}) { _ in try? await Task.sleep(for: .seconds(600)) }
        let loop = Task { await agent.run() }
        try await waitUntil { agent.runsInProgress == 1 }
        let stopAt = ContinuousClock.now
        agent.stop()
        await loop.value
        let waited = ContinuousClock.now - stopAt
        // Returned through the grace period, not because the 600 s run ended (generous bound, as above).
        #expect(waited >= .milliseconds(450) && waited < .seconds(300), "\(waited)")
        #expect(agent.runsInProgress == 1)
    }

    @Test func nothingDueMeansNothingRuns() async throws {
        let tasks = [ScheduledTask(target: "yearly", job: .backup, cron: try CronExpression("@yearly"), timeZone: TimeZone(identifier: "UTC")!)]
        let agent = Agent(schedule: RunSchedule(tasks: tasks, startingAt: Date()), grace: .seconds(1), logger: logger,
                          abort: {}) { _ in Issue.record("nothing is due") }
        let loop = Task { await agent.run() }
        try await Task.sleep(for: .milliseconds(1500))
        agent.stop()
        await loop.value
        #expect(agent.runsStarted == 0)
    }

    func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw WaitTimedOut() }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    struct WaitTimedOut: Error {}
}
