import Foundation

/// The agent's timetable as a value: which runs are due at an instant, which must be skipped
/// because their target is still busy, and when to wake up next. No clock and no threads, so
/// tests drive it through DST changes and month ends with plain dates.
///
/// Rules (docs/ARCHITECTURE.md, "The agent"):
/// - never two runs of one target at once: a run that comes due while the same task is still
///   running is skipped (and reported), not queued; one that comes due while another job of
///   its target runs (a drill during the backup) waits for it, once;
/// - a late wake-up (a suspended machine, a long run of another target) runs a task once, then
///   goes on from the schedule's next instant after *now*: missed instants are not replayed;
/// - catch-up: at start, a task whose latest instant lies within `catchUpWindow` and that has
///   not run since (per the repository's history) runs once, at once;
/// - jitter: each instant is delayed by a random offset in `0...jitter` (spreading agents that
///   share a schedule), drawn afresh for every instant.
public struct RunSchedule: Sendable {
    private var pending: [ScheduledRun]
    /// Target → the task running for it.
    private var busy: [String: ScheduledTask] = [:]
    private let jitter: @Sendable (ScheduledTask) -> TimeInterval

    /// - Parameters:
    ///   - lastRuns: when each task last ran, as far as the repository knows; a task without
    ///     an entry has never run (or the agent cannot tell: no catch-up for it).
    ///   - jitter: the delay to add to an instant; defaults to none.
    public init(tasks: [ScheduledTask], startingAt now: Date, lastRuns: [ScheduledTask: Date] = [:],
                catchUpWindow: TimeInterval = 0, jitter: @escaping @Sendable (ScheduledTask) -> TimeInterval = { _ in 0 }) {
        self.jitter = jitter
        pending = []
        for task in tasks {
            if catchUpWindow > 0, let last = lastRuns[task],
               let missed = task.lastFire(atOrBefore: now, within: catchUpWindow), last < missed {
                pending.append(ScheduledRun(task: task, scheduledFor: missed, due: now, catchUp: true))
            } else if let run = Self.next(task, after: now, jitter: jitter) {
                pending.append(run)
            }
        }
    }

    /// Random jitter in `0...maximum` seconds.
    public static func randomJitter(upTo maximum: TimeInterval) -> @Sendable (ScheduledTask) -> TimeInterval {
        guard maximum > 0 else { return { _ in 0 } }
        return { _ in Double.random(in: 0...maximum) }
    }

    /// The earliest instant something is due; nil when nothing is scheduled. Runs waiting for
    /// another job of their target do not count: the agent wakes when a run finishes anyway.
    public var nextWakeup: Date? {
        pending.filter { run in busy[run.task.target].map { $0 == run.task } ?? true }.map(\.due).min()
    }

    /// The runs due at `now` that may start (their targets are marked busy until `finished`)
    /// and those skipped because the same task was still running. A started or skipped task is
    /// rescheduled at its next instant after `now`; a run waiting for another job of its target
    /// stays due.
    public mutating func take(dueAt now: Date) -> (start: [ScheduledRun], skipped: [ScheduledRun]) {
        var start: [ScheduledRun] = [], skipped: [ScheduledRun] = []
        var later: [ScheduledRun] = []
        for run in pending.sorted(by: { $0.due < $1.due }) {
            guard run.due <= now else { later.append(run); continue }
            switch busy[run.task.target] {
            case nil:
                busy[run.task.target] = run.task
                start.append(run)
            case run.task?:
                skipped.append(run)
            case _?:
                later.append(run)
                continue
            }
            if let next = Self.next(run.task, after: max(now, run.scheduledFor), jitter: jitter) {
                later.append(next)
            }
        }
        pending = later
        return (start, skipped)
    }

    /// The run of `target` has ended: its target's next run may start.
    public mutating func finished(target: String) {
        busy[target] = nil
    }


    private static func next(_ task: ScheduledTask, after date: Date,
                             jitter: (ScheduledTask) -> TimeInterval) -> ScheduledRun? {
        guard let fire = task.cron.next(after: date, in: task.timeZone) else { return nil }
        return ScheduledRun(task: task, scheduledFor: fire, due: fire.addingTimeInterval(max(0, jitter(task))))
    }
}
