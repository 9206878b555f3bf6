import Foundation
import Logging
import Synchronization

/// The long-running scheduler: runs each scheduled task when it is due, at most one run per
/// target at a time, until it is asked to stop. What a run *does* is the `runner`'s business
/// (the CLI wires backup, drill, prune and report jobs), so the loop is tested with any work.
///
/// Stopping (SIGTERM): no new run starts; running ones are told to abort through `abort`
/// (a backup discards its partial objects, nothing is committed) and `run()` returns when they
/// have ended or after `grace`, whichever comes first.
public final class Agent: Sendable {
    public typealias Runner = @Sendable (ScheduledRun) async -> Void

    private let state: Mutex<State>
    private let runner: Runner
    private let skipped: @Sendable (ScheduledRun) -> Void
    private let abort: @Sendable () -> Void
    private let grace: Duration
    private let logger: Logger
    private let now: @Sendable () -> Date

    private struct State {
        var schedule: RunSchedule
        var stopping = false
        var running = 0
        var started = 0
        var skipped = 0
    }

    /// - Parameters:
    ///   - abort: called once when stopping while runs are in progress.
    ///   - now: the clock (tests of the loop use the real one; the timetable has its own tests).
    ///   - skipped: told of each run skipped because the same task was still running.
    public init(schedule: RunSchedule, grace: Duration, logger: Logger, now: @escaping @Sendable () -> Date = Date.init,
                abort: @escaping @Sendable () -> Void, skipped: @escaping @Sendable (ScheduledRun) -> Void = { _ in },
                runner: @escaping Runner) {
        state = Mutex(State(schedule: schedule))
        self.runner = runner
        self.skipped = skipped
        self.abort = abort
        self.grace = grace
        self.logger = logger
        self.now = now
    }

    public var runsStarted: Int { state.withLock { $0.started } }
    public var runsSkipped: Int { state.withLock { $0.skipped } }
    public var runsInProgress: Int { state.withLock { $0.running } }
    public var isStopping: Bool { state.withLock { $0.stopping } }

    /// Asks the loop to end (idempotent); running jobs are aborted.
    public func stop() {
        let wasRunning = state.withLock { state -> Bool in
            defer { state.stopping = true }
            return !state.stopping && state.running > 0
        }
        if wasRunning { abort() }
    }

    /// Runs until `stop()`; returns once every run ended or the grace period after `stop()` passed.
    public func run() async {
        do {
            while !isStopping {
                let current = now()
                // Checked under the same lock as stop(): either stop() comes first and nothing
                // starts, or the runs are counted before it looks and are aborted by it.
                let (start, skipped) = state.withLock { state in
                    if state.stopping { return (start: [ScheduledRun](), skipped: [ScheduledRun]()) }
                    let taken = state.schedule.take(dueAt: current)
                    state.running += taken.start.count
                    state.started += taken.start.count
                    state.skipped += taken.skipped.count
                    return taken
                }
                for run in skipped {
                    logger.warning("scheduled run skipped: the previous run of this task is still going", metadata: [
                        "target": "\(run.task.target)", "job": "\(run.task.job)", "scheduled_for": "\(run.scheduledFor)",
                    ])
                    self.skipped(run)
                }
                for run in start {
                    logger.info("scheduled run starting", metadata: [
                        "target": "\(run.task.target)", "job": "\(run.task.job)", "scheduled_for": "\(run.scheduledFor)",
                        "catch_up": "\(run.catchUp)",
                    ])
                    // Not a child task: after the grace period run() returns even if a run
                    // does not end (the process then exits).
                    Task.detached { [self] in
                        await runner(run)
                        state.withLock { state in
                            state.schedule.finished(target: run.task.target)
                            state.running -= 1
                        }
                    }
                }
                // Wake at the next instant, when a run ends (it may free a waiting run), or to
                // notice stop(); at most a second late for any of them.
                let wake = state.withLock { $0.schedule.nextWakeup }
                let seconds = min(1, max(0.01, (wake ?? .distantFuture).timeIntervalSince(now())))
                try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            }
            let deadline = ContinuousClock.now + grace
            while runsInProgress > 0, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(50))
            }
            if runsInProgress > 0 {
                logger.error("runs still in progress after the shutdown grace period; exiting anyway",
                             metadata: ["runs": "\(runsInProgress)"])
            }
        }
    }
}
