import Foundation

/// One backup as retention sees it: an id that sorts by time, its time, and whether every
/// region of the policy holds it.
public struct RetentionCandidate: Sendable, Equatable {
    public var id: String
    /// The backup's start time (the time in its id): what calendar buckets and ages use.
    public var time: Date
    /// True when the backup is `complete` (every region holds it), false when `degraded`.
    public var complete: Bool

    public init(id: String, time: Date, complete: Bool = true) {
        self.id = id
        self.time = time
        self.complete = complete
    }
}

/// Why a backup is kept.
public enum RetentionRule: String, Sendable, Codable, CaseIterable, Comparable {
    /// One of the `keep_last` newest backups.
    case last
    /// The newest backup of one of the `keep_hourly` newest hours that have a backup (likewise below).
    case hourly, daily, weekly, monthly, yearly
    /// Younger than `min_age`: never removed.
    case minAge = "min_age"
    /// The newest complete backup: never removed, whatever the rules say.
    case newestComplete = "newest_complete"

    public static func < (lhs: RetentionRule, rhs: RetentionRule) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// A rule keeping a backup, with the calendar bucket it stands for (`daily 2026-11-22`).
public struct RetentionReason: Sendable, Equatable, Codable, CustomStringConvertible {
    public var rule: RetentionRule
    /// The hour, day, ISO week, month or year (in the target's time zone); nil for the other rules.
    public var bucket: String?

    public init(rule: RetentionRule, bucket: String? = nil) {
        self.rule = rule
        self.bucket = bucket
    }

    public var description: String { bucket.map { "\(rule.rawValue) \($0)" } ?? rule.rawValue }
}

/// What retention decides for a target's backups: each kept one with the rules keeping it, and
/// the ones to remove. Both newest first.
public struct RetentionDecision: Sendable, Equatable {
    public struct Kept: Sendable, Equatable {
        public var id: String
        public var reasons: [RetentionReason]

        public init(id: String, reasons: [RetentionReason]) {
            self.id = id
            self.reasons = reasons
        }
    }

    public var kept: [Kept]
    public var removed: [String]

    public init(kept: [Kept], removed: [String]) {
        self.kept = kept
        self.removed = removed
    }

    public func reasons(for id: String) -> [RetentionReason]? {
        kept.first { $0.id == id }?.reasons
    }
}

/// restic `forget` semantics: every rule is applied to every backup on its own and a backup
/// kept by any rule is kept (the rules are OR'ed). `keep_last N` keeps the N newest backups;
/// `keep_daily N` (likewise hourly, weekly, monthly, yearly) walks the backups newest first and
/// keeps the newest one of each day that has one, until N days are covered. Days, hours, weeks
/// (ISO 8601) and so on are calendar buckets in the target's time zone: the two passes of a
/// repeated hour when the clocks go back are one hour-bucket, as the wall clock shows them.
/// On top of the counts, never removed: anything younger than `min_age` and the newest
/// complete backup.
public enum Retention {
    /// How old a leftover of a failed backup must be before `prune` removes it, when the policy
    /// does not say.
    public static let defaultLeftoverGrace: Duration = .seconds(24 * 3600)

    public static func decide(_ backups: [RetentionCandidate], policy: RetentionPolicy, now: Date,
                              timeZone: TimeZone) -> RetentionDecision {
        let newestFirst = backups.sorted { ($0.time, $0.id) > ($1.time, $1.id) }
        var reasons: [String: [RetentionReason]] = [:]
        func keep(_ backup: RetentionCandidate, _ reason: RetentionReason) {
            reasons[backup.id, default: []].append(reason)
        }

        for backup in newestFirst.prefix(policy.keepLast) { keep(backup, RetentionReason(rule: .last)) }
        let buckets = CalendarBuckets(timeZone: timeZone)
        let counted: [(RetentionRule, Int)] = [
            (.hourly, policy.keepHourly), (.daily, policy.keepDaily), (.weekly, policy.keepWeekly),
            (.monthly, policy.keepMonthly), (.yearly, policy.keepYearly),
        ]
        for (rule, count) in counted where count > 0 {
            var remaining = count
            var lastBucket: String?
            for backup in newestFirst {
                guard remaining > 0 else { break }
                let bucket = buckets.bucket(of: backup.time, for: rule)
                if bucket != lastBucket {
                    keep(backup, RetentionReason(rule: rule, bucket: bucket))
                    remaining -= 1
                    lastBucket = bucket
                }
            }
        }
        if let minAge = policy.minAge {
            let limit = Double(minAge.components.seconds)
            for backup in newestFirst where now.timeIntervalSince(backup.time) < limit {
                keep(backup, RetentionReason(rule: .minAge))
            }
        }
        if let newestComplete = newestFirst.first(where: \.complete) {
            keep(newestComplete, RetentionReason(rule: .newestComplete))
        }

        var decision = RetentionDecision(kept: [], removed: [])
        for backup in newestFirst {
            if let found = reasons[backup.id] {
                decision.kept.append(.init(id: backup.id, reasons: found.sorted { $0.rule < $1.rule }))
            } else {
                decision.removed.append(backup.id)
            }
        }
        return decision
    }
}

/// The calendar bucket names of the bucket rules, in one time zone.
struct CalendarBuckets {
    private let calendar: Calendar
    private let isoCalendar: Calendar

    init(timeZone: TimeZone) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        var iso = Calendar(identifier: .iso8601)
        iso.timeZone = timeZone
        self.calendar = calendar
        isoCalendar = iso
    }

    /// `2026-11-22 05h`, `2026-11-22`, `2026-W47`, `2026-11`, `2026`.
    func bucket(of date: Date, for rule: RetentionRule) -> String? {
        let parts = calendar.dateComponents([.year, .month, .day, .hour], from: date)
        let (year, month, day, hour) = (parts.year!, parts.month!, parts.day!, parts.hour!)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        switch rule {
        case .hourly: return "\(year)-\(two(month))-\(two(day)) \(two(hour))h"
        case .daily: return "\(year)-\(two(month))-\(two(day))"
        case .weekly:
            let week = isoCalendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date)
            return "\(week.yearForWeekOfYear!)-W\(two(week.weekOfYear!))"
        case .monthly: return "\(year)-\(two(month))"
        case .yearly: return "\(year)"
        case .last, .minAge, .newestComplete: return nil
        }
    }
}
