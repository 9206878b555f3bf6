import Foundation
import Testing
import DrctlJobs
import DrctlPolicy

/// The agent's timetable driven with plain dates: what starts, what is skipped, what waits.
@Suite struct RunScheduleTests {
    static let utc = TimeZone(identifier: "UTC")!
    static let berlin = TimeZone(identifier: "Europe/Berlin")!

    func date(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        return formatter.date(from: text)!
    }

    func task(_ target: String, _ job: AgentJob = .backup, _ cron: String, _ zone: TimeZone = utc) throws -> ScheduledTask {
        ScheduledTask(target: target, job: job, cron: try CronExpression(cron), timeZone: zone)
    }

    /// Steps through time from wake-up to wake-up until `end`, finishing each run after
    /// `duration`; returns the instants runs started at (and were skipped at) per task.
    func simulate(_ schedule: inout RunSchedule, until end: Date, duration: TimeInterval = 1)
        -> (started: [(ScheduledTask, Date)], skipped: [(ScheduledTask, Date)]) {
        var started: [(ScheduledTask, Date)] = [], skipped: [(ScheduledTask, Date)] = []
        var running: [(target: String, until: Date)] = []
        while true {
            let nextFinish = running.map(\.until).min()
            guard let wake = [schedule.nextWakeup, nextFinish].compactMap({ $0 }).min(), wake <= end else { break }
            for run in running where run.until <= wake { schedule.finished(target: run.target) }
            running.removeAll { $0.until <= wake }
            let (start, skip) = schedule.take(dueAt: wake)
            for run in start {
                started.append((run.task, wake))
                running.append((run.task.target, wake.addingTimeInterval(duration)))
            }
            skipped += skip.map { ($0.task, wake) }
        }
        return (started, skipped)
    }

    @Test func everyFifteenMinutesFromAnyStart() throws {
        let quarter = try task("db", .backup, "*/15 * * * *")
        var schedule = RunSchedule(tasks: [quarter], startingAt: date("2026-12-01T10:07:30Z"))
        let runs = simulate(&schedule, until: date("2026-12-01T11:00:00Z")).started.map(\.1)
        #expect(runs == ["10:15", "10:30", "10:45", "11:00"].map { date("2026-12-01T\($0):00Z") })
    }

    @Test func listsRangesAndMonthEnds() throws {
        let monthEnd = try task("db", .report, "0 6 28-31 * *")
        let weekdays = try task("cache", .backup, "30 1,13 * * mon-fri")
        var schedule = RunSchedule(tasks: [monthEnd, weekdays], startingAt: date("2027-02-25T00:00:00Z"))
        let started = simulate(&schedule, until: date("2027-03-02T00:00:00Z")).started
        #expect(started.filter { $0.0 == monthEnd }.map(\.1) == [date("2027-02-28T06:00:00Z")])
        // Thu 25, Fri 26, (weekend), Mon 1 March: two each.
        #expect(started.filter { $0.0 == weekdays }.map(\.1) == [
            "2027-02-25T01:30", "2027-02-25T13:30", "2027-02-26T01:30", "2027-02-26T13:30",
            "2027-03-01T01:30", "2027-03-01T13:30",
        ].map { date("\($0):00Z") })
    }

    /// 02:30 does not exist in Berlin on 2026-03-29 and 02:30 happens twice on 2026-10-25:
    /// the daily run happens once each day all the same.
    @Test func daylightSavingChangesRunOncePerDay() throws {
        let nightly = try task("db", .backup, "30 2 * * *", Self.berlin)
        var spring = RunSchedule(tasks: [nightly], startingAt: date("2026-03-27T12:00:00Z"))
        let springRuns = simulate(&spring, until: date("2026-03-31T12:00:00Z")).started.map(\.1)
        #expect(springRuns.count == 4, "\(springRuns)")
        #expect(springRuns.contains(date("2026-03-29T01:00:00Z")), "03:00 CEST, right after the gap: \(springRuns)")
        var autumn = RunSchedule(tasks: [nightly], startingAt: date("2026-10-23T12:00:00Z"))
        let autumnRuns = simulate(&autumn, until: date("2026-10-27T12:00:00Z")).started.map(\.1)
        #expect(autumnRuns.count == 4, "\(autumnRuns)")
        #expect(autumnRuns.contains(date("2026-10-25T00:30:00Z")), "the first 02:30 (CEST) only: \(autumnRuns)")
    }

    /// A backup that takes 40 minutes on a 15-minute schedule: the instants that fall inside
    /// a run are skipped, never run twice at once, never queued.
    @Test func noOverlapOfOneTask() throws {
        let quarter = try task("db", .backup, "*/15 * * * *")
        var schedule = RunSchedule(tasks: [quarter], startingAt: date("2026-12-01T09:59:00Z"))
        let (started, skipped) = simulate(&schedule, until: date("2026-12-01T11:59:00Z"), duration: 40 * 60)
        #expect(started.map(\.1) == ["10:00", "10:45", "11:30"].map { date("2026-12-01T\($0):00Z") })
        #expect(skipped.map(\.1) == ["10:15", "10:30", "11:00", "11:15", "11:45"].map { date("2026-12-01T\($0):00Z") })
    }

    /// A drill due while its target's backup runs waits for the backup; another target's
    /// backup is not held up.
    @Test func anotherJobOfTheTargetWaits() throws {
        let backup = try task("db", .backup, "0 5 * * *")
        let drill = try task("db", .drill, "0 5 * * *")
        let other = try task("cache", .backup, "0 5 * * *")
        var schedule = RunSchedule(tasks: [backup, drill, other], startingAt: date("2026-12-01T04:00:00Z"))
        let started = simulate(&schedule, until: date("2026-12-01T06:00:00Z"), duration: 10 * 60).started
        let at = Dictionary(started.map { ($0.0.job.rawValue + ":" + $0.0.target, $0.1) }, uniquingKeysWith: { a, _ in a })
        #expect(started.count == 3)
        #expect(at["backup:cache"] == date("2026-12-01T05:00:00Z"))
        let first = try #require([at["backup:db"], at["drill:db"]].compactMap { $0 }.min())
        let second = try #require([at["backup:db"], at["drill:db"]].compactMap { $0 }.max())
        #expect(first == date("2026-12-01T05:00:00Z") && second == date("2026-12-01T05:10:00Z"))
    }

    /// Down from 02:50 to 03:20: the 03:00 backup runs once at start-up, inside a 1 h window.
    @Test func catchUpRunsAMissedInstantOnce() throws {
        let nightly = try task("db", .backup, "0 3 * * *")
        let hourly = try task("db2", .backup, "0 * * * *")
        let start = date("2026-12-01T03:20:00Z")
        var schedule = RunSchedule(tasks: [nightly, hourly], startingAt: start,
                                   lastRuns: [nightly: date("2026-11-30T03:00:05Z"), hourly: date("2026-12-01T01:00:04Z")],
                                   catchUpWindow: 3600)
        #expect(schedule.nextWakeup == start)
        let (runs, _) = schedule.take(dueAt: start)
        #expect(Set(runs.map(\.task)) == [nightly, hourly], "each once, though db2 missed 02:00 and 03:00")
        #expect(runs.allSatisfy { $0.catchUp })
        #expect(runs.first { $0.task == nightly }?.scheduledFor == date("2026-12-01T03:00:00Z"))
        schedule.finished(target: "db"); schedule.finished(target: "db2")
        #expect(schedule.nextWakeup == date("2026-12-01T04:00:00Z"))
    }

    @Test func noCatchUpOutsideTheWindowOrWhenAlreadyRun() throws {
        let nightly = try task("db", .backup, "0 3 * * *")
        let late = RunSchedule(tasks: [nightly], startingAt: date("2026-12-01T05:00:00Z"),
                               lastRuns: [nightly: date("2026-11-30T03:00:00Z")], catchUpWindow: 3600)
        #expect(late.nextWakeup == date("2026-12-02T03:00:00Z"), "03:00 is 2 h ago, outside the 1 h window")
        let ran = RunSchedule(tasks: [nightly], startingAt: date("2026-12-01T03:20:00Z"),
                              lastRuns: [nightly: date("2026-12-01T03:00:02Z")], catchUpWindow: 3600)
        #expect(ran.nextWakeup == date("2026-12-02T03:00:00Z"), "it ran at 03:00 already")
        let unknown = RunSchedule(tasks: [nightly], startingAt: date("2026-12-01T03:20:00Z"), catchUpWindow: 3600)
        #expect(unknown.nextWakeup == date("2026-12-02T03:00:00Z"), "no history: no catch-up")
    }

    @Test func jitterDelaysEachInstantWithinItsBound() throws {
        let quarter = try task("db", .backup, "*/15 * * * *")
        var schedule = RunSchedule(tasks: [quarter], startingAt: date("2026-12-01T10:00:00Z"),
                                   jitter: RunSchedule.randomJitter(upTo: 120))
        var starts: [Date] = []
        var offsets: Set<Double> = []
        for _ in 0..<20 {
            let wake = try #require(schedule.nextWakeup)
            let (runs, _) = schedule.take(dueAt: wake)
            let run = try #require(runs.first)
            #expect(run.due >= run.scheduledFor && run.due <= run.scheduledFor.addingTimeInterval(120))
            starts.append(run.scheduledFor)
            offsets.insert(run.due.timeIntervalSince(run.scheduledFor))
            schedule.finished(target: "db")
        }
        #expect(offsets.count > 1, "the delays are drawn, not one constant")
        #expect(starts == (1...20).map { date("2026-12-01T10:00:00Z").addingTimeInterval(Double($0) * 900) })
    }
}
