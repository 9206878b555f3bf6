import Foundation
import Testing
@testable import DrctlPolicy

/// A backup at a UTC time written `2026-11-30T03:00`; its id is the time (ids sort by time).
private func backup(_ utc: String, complete: Bool = true) -> RetentionCandidate {
    RetentionCandidate(id: utc, time: date(utc), complete: complete)
}

private func date(_ utc: String) -> Date {
    try! Date.ISO8601FormatStyle().parse(utc + ":00Z")
}

private let utcZone = TimeZone(identifier: "UTC")!
private let berlin = TimeZone(identifier: "Europe/Berlin")!

/// One backup a day at 03:00 UTC from 2025-12-01 to 2026-11-30 (365 backups).
private let yearOfDailyBackups: [RetentionCandidate] = (0..<365).map { day in
    let time = date("2025-12-01T03:00").addingTimeInterval(Double(day) * 86_400)
    let text = String(isoText(time).prefix(16))
    return RetentionCandidate(id: text, time: time)
}

private func isoText(_ date: Date) -> String {
    date.formatted(Date.ISO8601FormatStyle(timeZone: utcZone))
}

/// The days (`MM-dd` in 2026, `2025-MM-dd` before) of a kept set, newest first.
private func days(_ decision: RetentionDecision) -> [String] {
    decision.kept.map { kept in
        kept.id.hasPrefix("2026-") ? String(kept.id.dropFirst(5).prefix(5)) : String(kept.id.prefix(10))
    }
}

@Suite struct RetentionTests {
    struct YearCase: CustomTestStringConvertible, Sendable {
        let name: String
        let policy: RetentionPolicy
        let kept: [String]
        var testDescription: String { name }
    }

    static let sundays2026: [String] = {
        // Every Sunday from 2025-12-07 to 2026-11-29, newest first.
        (0..<52).map { week in
            let time = date("2026-11-29T03:00").addingTimeInterval(-Double(week) * 7 * 86_400)
            let text = isoText(time)
            return text.hasPrefix("2026-") ? String(text.dropFirst(5).prefix(5)) : String(text.prefix(10))
        }
    }()

    static let yearCases: [YearCase] = [
        YearCase(name: "daily 7, weekly 4, monthly 12, yearly 3",
                 policy: RetentionPolicy(keepDaily: 7, keepWeekly: 4, keepMonthly: 12, keepYearly: 3),
                 kept: ["11-30", "11-29", "11-28", "11-27", "11-26", "11-25", "11-24", "11-22", "11-15",
                        "10-31", "09-30", "08-31", "07-31", "06-30", "05-31", "04-30", "03-31", "02-28", "01-31",
                        "2025-12-31"]),
        YearCase(name: "last 10", policy: RetentionPolicy(keepLast: 10),
                 kept: ["11-30", "11-29", "11-28", "11-27", "11-26", "11-25", "11-24", "11-23", "11-22", "11-21"]),
        YearCase(name: "weekly 60: more weeks asked than there are (53)", policy: RetentionPolicy(keepWeekly: 60),
                 kept: ["11-30"] + sundays2026),
        YearCase(name: "monthly 3 with min_age 10d", policy: RetentionPolicy(keepMonthly: 3, minAge: .seconds(10 * 86_400)),
                 kept: ["11-30", "11-29", "11-28", "11-27", "11-26", "11-25", "11-24", "11-23", "11-22", "11-21",
                        "10-31", "09-30"]),
        YearCase(name: "yearly 1", policy: RetentionPolicy(keepYearly: 1), kept: ["11-30"]),
        YearCase(name: "yearly 5: one per year there is", policy: RetentionPolicy(keepYearly: 5), kept: ["11-30", "2025-12-31"]),
        YearCase(name: "hourly 3: each day is its own hour", policy: RetentionPolicy(keepHourly: 3),
                 kept: ["11-30", "11-29", "11-28"]),
        YearCase(name: "last 2 and monthly 2 overlap", policy: RetentionPolicy(keepLast: 2, keepMonthly: 2),
                 kept: ["11-30", "11-29", "10-31"]),
    ]

    @Test(arguments: yearCases)
    func aYearOfDailyBackups(_ testCase: YearCase) {
        let decision = Retention.decide(yearOfDailyBackups.shuffled(), policy: testCase.policy,
                                        now: date("2026-11-30T12:00"), timeZone: utcZone)
        #expect(days(decision) == testCase.kept)
        #expect(decision.removed.count == 365 - testCase.kept.count)
        #expect(Set(decision.removed).isDisjoint(with: decision.kept.map(\.id)))
    }

    @Test func eachKeptBackupNamesEveryRuleAndBucketKeepingIt() {
        let decision = Retention.decide(yearOfDailyBackups,
                                        policy: RetentionPolicy(keepDaily: 7, keepWeekly: 4, keepMonthly: 12, keepYearly: 3),
                                        now: date("2026-11-30T12:00"), timeZone: utcZone)
        #expect(decision.reasons(for: "2026-11-30T03:00")?.map(\.description)
            == ["daily 2026-11-30", "weekly 2026-W49", "monthly 2026-11", "yearly 2026", "newest_complete"])
        #expect(decision.reasons(for: "2026-11-29T03:00")?.map(\.description) == ["daily 2026-11-29", "weekly 2026-W48"])
        #expect(decision.reasons(for: "2026-11-22T03:00")?.map(\.description) == ["weekly 2026-W47"])
        #expect(decision.reasons(for: "2026-02-28T03:00")?.map(\.description) == ["monthly 2026-02"])
        #expect(decision.reasons(for: "2025-12-31T03:00")?.map(\.description) == ["monthly 2025-12", "yearly 2025"])
        #expect(decision.reasons(for: "2026-11-23T03:00") == nil)
        #expect(decision.removed.first == "2026-11-23T03:00")
        #expect(decision.removed.last == "2025-12-01T03:00")
    }

    /// Europe/Berlin goes back from 03:00 CEST to 02:00 CET on 2026-10-25 (01:00 UTC): the two
    /// passes of 02:xx are one wall-clock hour.
    @Test func hourlyBucketsWhenTheClocksGoBack() {
        let backups = ["2026-10-24T23:30", "2026-10-25T00:00", "2026-10-25T00:30", "2026-10-25T01:00",
                       "2026-10-25T01:30", "2026-10-25T02:00"].map { backup($0) }
        // Local: 01:30 CEST, 02:00 CEST, 02:30 CEST, 02:00 CET, 02:30 CET, 03:00 CET.
        let decision = Retention.decide(backups, policy: RetentionPolicy(keepHourly: 3), now: date("2026-10-25T03:00"),
                                        timeZone: berlin)
        #expect(decision.kept.map(\.id) == ["2026-10-25T02:00", "2026-10-25T01:30", "2026-10-24T23:30"])
        #expect(decision.kept.map { $0.reasons[0].description }
            == ["hourly 2026-10-25 03h", "hourly 2026-10-25 02h", "hourly 2026-10-25 01h"])
        // In UTC every half hour pair is its own hour.
        let inUTC = Retention.decide(backups, policy: RetentionPolicy(keepHourly: 3), now: date("2026-10-25T03:00"), timeZone: utcZone)
        #expect(inUTC.kept.map(\.id) == ["2026-10-25T02:00", "2026-10-25T01:30", "2026-10-25T00:30"])
    }

    /// Europe/Berlin skips 02:00–03:00 on 2026-03-29 (01:00 UTC): 01:30 CET is followed by 03:00 CEST.
    @Test func hourlyBucketsWhenTheClocksGoForward() {
        let backups = ["2026-03-29T00:00", "2026-03-29T00:30", "2026-03-29T01:00", "2026-03-29T01:30"].map { backup($0) }
        let decision = Retention.decide(backups, policy: RetentionPolicy(keepHourly: 2), now: date("2026-03-29T02:00"),
                                        timeZone: berlin)
        #expect(decision.kept.map(\.id) == ["2026-03-29T01:30", "2026-03-29T00:30"])
        #expect(decision.kept.map { $0.reasons[0].description } == ["hourly 2026-03-29 03h", "hourly 2026-03-29 01h"])
        #expect(decision.removed == ["2026-03-29T01:00", "2026-03-29T00:00"])
    }

    @Test func hourlyKeepsTheNewestOfEachHourAcrossMidnight() {
        let backups = ["2026-06-09T22:05", "2026-06-09T22:55", "2026-06-09T23:10", "2026-06-09T23:50",
                       "2026-06-10T00:20"].map { backup($0) }
        let decision = Retention.decide(backups, policy: RetentionPolicy(keepHourly: 3), now: date("2026-06-10T01:00"), timeZone: utcZone)
        #expect(decision.kept.map(\.id) == ["2026-06-10T00:20", "2026-06-09T23:50", "2026-06-09T22:55"])
        #expect(decision.removed == ["2026-06-09T23:10", "2026-06-09T22:05"])
    }

    /// Days are the target's days: 21:30 and 22:30 UTC on 06-10 are 23:30 on 06-10 and 00:30 on 06-11 in Berlin.
    @Test func dailyBucketsAreInTheTargetsTimeZone() {
        let backups = ["2026-06-09T12:00", "2026-06-10T21:30", "2026-06-10T22:30"].map { backup($0) }
        let policy = RetentionPolicy(keepDaily: 2)
        let now = date("2026-06-11T12:00")
        #expect(Retention.decide(backups, policy: policy, now: now, timeZone: utcZone).kept.map(\.id)
            == ["2026-06-10T22:30", "2026-06-09T12:00"])
        #expect(Retention.decide(backups, policy: policy, now: now, timeZone: berlin).kept.map(\.id)
            == ["2026-06-10T22:30", "2026-06-10T21:30"])
    }

    /// ISO weeks start on Monday and the first week of 2026 starts on 2025-12-29.
    @Test func weeklyBucketsAreISOWeeksAcrossTheYearEnd() {
        let backups = ["2025-12-27T10:00", "2025-12-28T10:00", "2025-12-29T10:00", "2026-01-04T10:00",
                       "2026-01-05T10:00"].map { backup($0) }
        let decision = Retention.decide(backups, policy: RetentionPolicy(keepWeekly: 3), now: date("2026-01-06T00:00"), timeZone: utcZone)
        #expect(decision.kept.map { $0.reasons.map(\.description) }
            == [["weekly 2026-W02", "newest_complete"], ["weekly 2026-W01"], ["weekly 2025-W52"]])
        #expect(decision.kept.map(\.id) == ["2026-01-05T10:00", "2026-01-04T10:00", "2025-12-28T10:00"])
    }

    @Test func theNewestCompleteBackupIsKeptWhenNewerOnesAreDegraded() {
        let backups = [backup("2026-06-01T00:00"), backup("2026-06-02T00:00"),
                       backup("2026-06-03T00:00", complete: false), backup("2026-06-04T00:00", complete: false)]
        let decision = Retention.decide(backups, policy: RetentionPolicy(keepLast: 1), now: date("2026-06-05T00:00"), timeZone: utcZone)
        #expect(decision.kept.map(\.id) == ["2026-06-04T00:00", "2026-06-02T00:00"])
        #expect(decision.reasons(for: "2026-06-02T00:00") == [RetentionReason(rule: .newestComplete)])
        #expect(decision.removed == ["2026-06-03T00:00", "2026-06-01T00:00"])
    }

    @Test func minAgeAloneKeepsTheYoungAndTheNewestComplete() {
        let backups = ["2026-06-01T00:00", "2026-06-02T00:00", "2026-06-03T00:00"].map { backup($0) }
        let policy = RetentionPolicy(minAge: .seconds(36 * 3600))
        let decision = Retention.decide(backups, policy: policy, now: date("2026-06-04T00:00"), timeZone: utcZone)
        #expect(decision.kept.map(\.id) == ["2026-06-03T00:00"])
        #expect(decision.reasons(for: "2026-06-03T00:00")?.map(\.rule) == [.minAge, .newestComplete])
        // Everything old and nothing complete: only min_age holds anything back.
        let degraded = backups.map { RetentionCandidate(id: $0.id, time: $0.time, complete: false) }
        #expect(Retention.decide(degraded, policy: RetentionPolicy(minAge: .seconds(60)), now: date("2026-06-04T00:00"),
                                 timeZone: utcZone).kept.isEmpty)
    }

    @Test func noBackupsDecidesNothing() {
        let decision = Retention.decide([], policy: RetentionPolicy(keepLast: 3), now: Date(), timeZone: utcZone)
        #expect(decision.kept.isEmpty && decision.removed.isEmpty)
    }

    @Test func minAgeAndLeftoverGraceAreParsed() throws {
        let workspace = try Workspace()
        let yaml = minimalPolicy + "\n    retention: {keep_daily: 7, min_age: 2d, leftover_grace: 6h}\n"
        let retention = try #require(try workspace.load(yaml).targets[0].retention)
        #expect(retention == RetentionPolicy(keepDaily: 7, minAge: .seconds(172_800), leftoverGrace: .seconds(21_600)))
        let onlyAge = try #require(try workspace.load(minimalPolicy + "\n    retention: {min_age: 30d}\n").targets[0].retention)
        #expect(onlyAge.minAge == .seconds(30 * 86_400))
    }

    @Test func invalidRetentionDurationsAreReported() throws {
        let workspace = try Workspace()
        let problems = workspace.problems(minimalPolicy + "\n    retention: {keep_daily: 7, min_age: 2, leftover_grace: soon}\n")
        #expect(problems.map(\.keyPath) == ["targets[0].retention.min_age", "targets[0].retention.leftover_grace"])
        let nothing = workspace.problems(minimalPolicy + "\n    retention: {leftover_grace: 6h}\n")
        #expect(nothing.map(\.message) == ["keeps nothing: set at least one of keep_last, keep_hourly, keep_daily, keep_weekly, keep_monthly, keep_yearly above 0, or min_age"])
    }
}
