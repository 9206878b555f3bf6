import Foundation
import DrctlPolicy

/// What the agent runs on a schedule.
public enum AgentJob: String, Sendable, CaseIterable, Codable {
    case backup, drill, prune, report
}

/// One job of one target on one cron schedule, in the target's time zone.
public struct ScheduledTask: Sendable, Hashable, CustomStringConvertible {
    public let target: String
    public let job: AgentJob
    public let cron: CronExpression
    public let timeZone: TimeZone

    public init(target: String, job: AgentJob, cron: CronExpression, timeZone: TimeZone) {
        self.target = target
        self.job = job
        self.cron = cron
        self.timeZone = timeZone
    }

    public var description: String { "\(job) of '\(target)' (\(cron) \(timeZone.identifier))" }

    public static func == (lhs: ScheduledTask, rhs: ScheduledTask) -> Bool {
        lhs.target == rhs.target && lhs.job == rhs.job && lhs.cron.text == rhs.cron.text
            && lhs.timeZone.identifier == rhs.timeZone.identifier
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(target)
        hasher.combine(job)
        hasher.combine(cron.text)
        hasher.combine(timeZone.identifier)
    }

    /// The newest instant in `(now - window, now]` at which the schedule fired, if any.
    public func lastFire(atOrBefore now: Date, within window: TimeInterval) -> Date? {
        var cursor = now.addingTimeInterval(-window)
        var last: Date?
        while let fire = cron.next(after: cursor, in: timeZone), fire <= now {
            last = fire
            cursor = fire
        }
        return last
    }
}

/// A task that is due: `scheduledFor` is the cron instant, `due` that instant plus jitter
/// (or the agent's start for a catch-up run).
public struct ScheduledRun: Sendable, Equatable {
    public let task: ScheduledTask
    public let scheduledFor: Date
    public let due: Date
    public let catchUp: Bool

    public init(task: ScheduledTask, scheduledFor: Date, due: Date, catchUp: Bool = false) {
        self.task = task
        self.scheduledFor = scheduledFor
        self.due = due
        self.catchUp = catchUp
    }
}
