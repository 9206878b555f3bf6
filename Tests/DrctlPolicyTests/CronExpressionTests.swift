import Foundation
import Testing
@testable import DrctlPolicy

@Suite struct CronExpressionTests {
    let utcZone = TimeZone(identifier: "UTC")!
    let berlin = TimeZone(identifier: "Europe/Berlin")!

    /// The first `count` firing times after `start`, as UTC wall clock strings.
    func runs(_ expression: String, after start: String, count: Int = 4, zone: String = "UTC") throws -> [String] {
        let cron = try CronExpression(expression)
        let timeZone = TimeZone(identifier: zone)!
        var date = utc(start)
        var result: [String] = []
        for _ in 0..<count {
            guard let next = cron.next(after: date, in: timeZone) else { break }
            #expect(next > date)
            #expect(cron.matches(next, in: timeZone) || zone != "UTC")
            result.append(wall(next, zone))
            date = next
        }
        return result
    }

    @Test func everyFifteenMinutes() throws {
        #expect(try runs("*/15 * * * *", after: "2026-01-01T10:07:30Z") ==
                ["2026-01-01 10:15 +0000", "2026-01-01 10:30 +0000", "2026-01-01 10:45 +0000", "2026-01-01 11:00 +0000"])
        let cron = try CronExpression("*/15 * * * *")
        #expect(cron.matches(utc("2026-01-01T10:45:59Z"), in: utcZone))
        #expect(!cron.matches(utc("2026-01-01T10:46:00Z"), in: utcZone))
        // Strictly after: a firing time itself is not returned.
        #expect(cron.next(after: utc("2026-01-01T10:15:00Z"), in: utcZone) == utc("2026-01-01T10:30:00Z"))
    }

    @Test func listsAndRanges() throws {
        #expect(try runs("0,30 8-9 * * *", after: "2026-01-01T00:00:00Z", count: 5) ==
                ["2026-01-01 08:00 +0000", "2026-01-01 08:30 +0000", "2026-01-01 09:00 +0000", "2026-01-01 09:30 +0000",
                 "2026-01-02 08:00 +0000"])
        #expect(try runs("0 0-12/6 * * *", after: "2026-01-01T00:00:00Z", count: 3) ==
                ["2026-01-01 06:00 +0000", "2026-01-01 12:00 +0000", "2026-01-02 00:00 +0000"])
        #expect(try runs("5/20 0 * * *", after: "2026-01-01T00:00:00Z", count: 3) ==
                ["2026-01-01 00:05 +0000", "2026-01-01 00:25 +0000", "2026-01-01 00:45 +0000"])
    }

    @Test func names() throws {
        // 2026-01-01 is a Thursday.
        #expect(try runs("0 9 * JAN,mar mon-wed", after: "2026-01-01T00:00:00Z", count: 4) ==
                ["2026-01-05 09:00 +0000", "2026-01-06 09:00 +0000", "2026-01-07 09:00 +0000", "2026-01-12 09:00 +0000"])
        #expect(try runs("0 9 * feb-mar sun", after: "2026-01-01T00:00:00Z", count: 1) == ["2026-02-01 09:00 +0000"])
        // 7 is Sunday too.
        #expect(try CronExpression("0 0 * * 7") == CronExpression("0 0 * * 7"))
        #expect(try runs("0 0 * * 7", after: "2026-01-01T00:00:00Z", count: 1) == ["2026-01-04 00:00 +0000"])
        #expect(try runs("0 0 * * 5-7", after: "2026-01-01T00:00:00Z", count: 3) ==
                ["2026-01-02 00:00 +0000", "2026-01-03 00:00 +0000", "2026-01-04 00:00 +0000"])
    }

    @Test func macros() throws {
        #expect(try runs("@daily", after: "2026-01-01T13:00:00Z", count: 2) == ["2026-01-02 00:00 +0000", "2026-01-03 00:00 +0000"])
        #expect(try runs("@hourly", after: "2026-01-01T13:00:00Z", count: 1) == ["2026-01-01 14:00 +0000"])
        #expect(try runs("@weekly", after: "2026-01-01T13:00:00Z", count: 1) == ["2026-01-04 00:00 +0000"])
        #expect(try runs("@monthly", after: "2026-01-01T13:00:00Z", count: 1) == ["2026-02-01 00:00 +0000"])
        #expect(try runs("@yearly", after: "2026-01-01T13:00:00Z", count: 1) == ["2027-01-01 00:00 +0000"])
        #expect(throws: PolicyValueError.self) { try CronExpression("@reboot") }
        #expect { try CronExpression("@dayly") } throws: { "\($0)".contains("did you mean @daily?") }
    }

    @Test func dayOfMonthOrDayOfWeek() throws {
        // Both restricted: the 13th OR any Friday (Vixie cron).
        #expect(try runs("0 0 13 * fri", after: "2026-02-01T00:00:00Z", count: 4) ==
                ["2026-02-06 00:00 +0000", "2026-02-13 00:00 +0000", "2026-02-20 00:00 +0000", "2026-02-27 00:00 +0000"])
        #expect(try runs("0 0 13 * fri", after: "2026-03-01T00:00:00Z", count: 3) ==
                ["2026-03-06 00:00 +0000", "2026-03-13 00:00 +0000", "2026-03-20 00:00 +0000"])
        // Day-of-week is '*': only the 13th.
        #expect(try runs("0 0 13 * *", after: "2026-02-01T00:00:00Z", count: 2) == ["2026-02-13 00:00 +0000", "2026-03-13 00:00 +0000"])
        // A field starting with '*' counts as unrestricted: */2 AND Friday.
        #expect(try runs("0 0 */2 * fri", after: "2026-01-01T00:00:00Z", count: 2) == ["2026-01-09 00:00 +0000", "2026-01-23 00:00 +0000"])
    }

    @Test func monthEndsAndLeapDays() throws {
        #expect(try runs("0 0 29 2 *", after: "2026-01-01T00:00:00Z", count: 2) == ["2028-02-29 00:00 +0000", "2032-02-29 00:00 +0000"])
        #expect(try runs("0 0 31 * *", after: "2026-04-01T00:00:00Z", count: 3) ==
                ["2026-05-31 00:00 +0000", "2026-07-31 00:00 +0000", "2026-08-31 00:00 +0000"])
        #expect(try runs("0 12 30 * *", after: "2026-01-31T00:00:00Z", count: 1) == ["2026-03-30 12:00 +0000"])
        #expect { try CronExpression("0 0 30 2 *") } throws: { "\($0)".contains("never fires: no selected month has day 30") }
        #expect { try CronExpression("0 0 31 4,6 *") } throws: { "\($0)".contains("never fires") }
        // With a restricted day-of-week it fires on those weekdays.
        #expect(try runs("0 0 30 2 mon", after: "2026-02-01T00:00:00Z", count: 1) == ["2026-02-02 00:00 +0000"])
        // 2100 is not a leap year.
        #expect(try runs("0 0 29 2 *", after: "2096-03-01T00:00:00Z", count: 1) == ["2104-02-29 00:00 +0000"])
    }

    @Test func springForwardInBerlin() throws {
        // 2026-03-29: 02:00 CET becomes 03:00 CEST. 02:30 does not exist that day; it fires at the change.
        #expect(try runs("30 2 * * *", after: "2026-03-27T12:00:00Z", count: 4, zone: "Europe/Berlin") ==
                ["2026-03-28 02:30 +0100", "2026-03-29 03:00 +0200", "2026-03-30 02:30 +0200", "2026-03-31 02:30 +0200"])
        #expect(try runs("0 3 * * *", after: "2026-03-28T12:00:00Z", count: 2, zone: "Europe/Berlin") ==
                ["2026-03-29 03:00 +0200", "2026-03-30 03:00 +0200"])
        #expect(try runs("*/30 * * * *", after: "2026-03-29T00:10:00Z", count: 3, zone: "Europe/Berlin") ==
                ["2026-03-29 01:30 +0100", "2026-03-29 03:00 +0200", "2026-03-29 03:30 +0200"])
    }

    @Test func fallBackInBerlin() throws {
        // 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:30 happens twice and a fixed-time schedule fires once.
        #expect(try runs("30 2 * * *", after: "2026-10-24T12:00:00Z", count: 3, zone: "Europe/Berlin") ==
                ["2026-10-25 02:30 +0200", "2026-10-26 02:30 +0100", "2026-10-27 02:30 +0100"])
        // A wildcard hour fires every real hour, in both passes of the repeated hour.
        #expect(try runs("0 * * * *", after: "2026-10-24T22:30:00Z", count: 4, zone: "Europe/Berlin") ==
                ["2026-10-25 01:00 +0200", "2026-10-25 02:00 +0200", "2026-10-25 02:00 +0100", "2026-10-25 03:00 +0100"])
        // Starting inside the repeated hour, a fixed-time schedule that already fired waits a day.
        #expect(try runs("30 2 * * *", after: "2026-10-25T01:10:00Z", count: 1, zone: "Europe/Berlin") == ["2026-10-26 02:30 +0100"])
        // Starting inside the repeated hour still moves forward.
        let cron = try CronExpression("*/20 * * * *")
        let second0210 = utc("2026-10-25T01:10:00Z")  // 02:10 CET, the second 02:10
        #expect(wall(cron.next(after: second0210, in: berlin), "Europe/Berlin") == "2026-10-25 02:20 +0100")
        #expect(cron.matches(second0210.addingTimeInterval(600), in: berlin))
    }

    @Test func neverLoopsForever() throws {
        let cron = try CronExpression("0 0 31 12 *")
        let started = Date()
        var date = utc("2026-01-01T00:00:00Z")
        for _ in 0..<20 {
            date = try #require(cron.next(after: date, in: berlin))
        }
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(wall(date, "Europe/Berlin") == "2045-12-31 00:00 +0100")
    }

    @Test func parseErrors() {
        for (text, message) in [
            ("61 * * * *", "minute 61 is out of range 0-59"),
            ("* 24 * * *", "hour 24 is out of range 0-23"),
            ("* * 0 * *", "day-of-month 0 is out of range 1-31"),
            ("* * * 13 *", "month 13 is out of range 1-12"),
            ("* * * * 8", "day-of-week 8 is out of range 0-7"),
            ("*/0 * * * *", "minute step 0 in \"*/0\" is out of range 1-59"),
            ("*/x * * * *", "minute \"*/x\" has an invalid step \"x\""),
            ("1/2/3 * * * *", "minute \"1/2/3\" has more than one step"),
            ("10-5 * * * *", "minute range 10-5 runs backwards"),
            ("1,,2 * * * *", "minute \"1,,2\" has an empty list item"),
            ("* * * foo *", "unknown month name \"foo\""),
            ("* * * * mnday", "unknown day-of-week name \"mnday\""),
            ("a * * * *", "invalid minute \"a\": expected a number 0-59"),
            ("* * * *", "expected 5 fields"),
            ("", "got 0 fields"),
        ] {
            #expect(throws: PolicyValueError.self) { try CronExpression(text) }
            do { _ = try CronExpression(text) } catch { #expect(error.message.contains(message), "\(text): \(error.message)") }
        }
    }
}
