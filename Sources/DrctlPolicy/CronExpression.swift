import Foundation

/// A cron schedule with standard (Vixie) semantics: five fields `minute hour day-of-month month
/// day-of-week`, or `@hourly`, `@daily` (`@midnight`), `@weekly`, `@monthly`, `@yearly` (`@annually`).
///
/// Fields take `*`, numbers, names (`jan`...`dec`, `sun`...`sat`, any case), ranges `a-b`, steps
/// `*/n`, `a-b/n` and `a/n` (= a up to the field's maximum, step n), and lists `a,b-c,*/d`.
/// Day-of-week 0 and 7 are both Sunday. When both day-of-month and day-of-week are restricted (do
/// not start with `*`), a day matches if EITHER matches; otherwise both must match.
///
/// Schedules are evaluated in local wall-clock time of a time zone. Across DST changes `next`
/// follows Vixie cron: a time skipped by a spring-forward change fires at the moment of the change
/// (once, however many times it skipped); a time repeated by a fall-back change fires once, at its
/// first occurrence, unless the minute or hour field is a wildcard (`*`, `*/n`): such schedules
/// fire in both passes, so an hourly schedule keeps firing every real hour.
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    /// The expression as written.
    public var text: String

    private var minutes: UInt64 = 0      // bits 0...59
    private var hours: UInt32 = 0        // bits 0...23
    private var daysOfMonth: UInt32 = 0  // bits 1...31
    private var months: UInt16 = 0       // bits 1...12
    private var daysOfWeek: UInt8 = 0    // bits 0...6 (0 = Sunday)
    private var dayOfMonthRestricted = false
    private var dayOfWeekRestricted = false
    private var repeatsInOverlap = false

    private static let macros: [(String, String)] = [
        ("@yearly", "0 0 1 1 *"), ("@annually", "0 0 1 1 *"), ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"), ("@daily", "0 0 * * *"), ("@midnight", "0 0 * * *"), ("@hourly", "0 * * * *"),
    ]

    /// Parses `text`; throws `PolicyValueError` naming the field and the reason, e.g.
    /// `minute 61 is out of range 0-59`.
    public init(_ text: String) throws(PolicyValueError) {
        self.text = text
        var source = text.trimmingCharacters(in: .whitespaces)
        if source.hasPrefix("@") {
            let lowered = source.lowercased()
            if lowered == "@reboot" {
                throw PolicyValueError("@reboot is not supported: a schedule must name times")
            }
            guard let expansion = Self.macros.first(where: { $0.0 == lowered })?.1 else {
                let known = Self.macros.map(\.0)
                let hint = Suggest.nearest(to: lowered, in: known).map { "did you mean \($0)?" }
                    ?? "expected one of \(known.joined(separator: ", "))"
                throw PolicyValueError("unknown schedule \"\(source)\"; \(hint)")
            }
            source = expansion
        }
        let fields = source.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw PolicyValueError("expected 5 fields (minute hour day-of-month month day-of-week) or "
                + "@hourly/@daily/@weekly/@monthly/@yearly, got \(fields.count) field\(fields.count == 1 ? "" : "s")")
        }
        minutes = try Self.parse(fields[0], .minute)
        hours = UInt32(try Self.parse(fields[1], .hour))
        daysOfMonth = UInt32(try Self.parse(fields[2], .dayOfMonth))
        months = UInt16(try Self.parse(fields[3], .month))
        var week = try Self.parse(fields[4], .dayOfWeek)
        if week & (1 << 7) != 0 { week = (week & ~(1 << 7)) | 1 }  // 7 is Sunday too
        daysOfWeek = UInt8(week)
        dayOfMonthRestricted = !fields[2].hasPrefix("*")
        dayOfWeekRestricted = !fields[4].hasPrefix("*")
        repeatsInOverlap = fields[0].hasPrefix("*") || fields[1].hasPrefix("*")
        // A day-of-month that no selected month has would make the schedule silently never fire.
        // (With a restricted day-of-week the days are OR-ed, or day-of-month is `*...` and includes 1.)
        if !dayOfWeekRestricted {
            let selectedMonths = (1...12).filter { months & (1 << UInt16($0)) != 0 }
            let longest: Int = selectedMonths.map { Self.maximumDays(ofMonth: $0) }.max() ?? 31
            let first: Int = (1...31).first(where: { daysOfMonth & (1 << UInt32($0)) != 0 }) ?? 1
            if first > longest {
                throw PolicyValueError("the schedule never fires: no selected month has day \(first)")
            }
        }
    }

    public var description: String { text }

    public static func == (lhs: CronExpression, rhs: CronExpression) -> Bool {
        lhs.text == rhs.text && lhs.minutes == rhs.minutes && lhs.hours == rhs.hours
            && lhs.daysOfMonth == rhs.daysOfMonth && lhs.months == rhs.months && lhs.daysOfWeek == rhs.daysOfWeek
            && lhs.dayOfMonthRestricted == rhs.dayOfMonthRestricted && lhs.dayOfWeekRestricted == rhs.dayOfWeekRestricted
    }

    /// Whether the schedule fires in the minute that contains `date` (wall clock of `timeZone`).
    public func matches(_ date: Date, in timeZone: TimeZone) -> Bool {
        let wall = WallClock(date, timeZone)
        let (day, secondOfDay) = wall.floorDiv(86_400)
        return minutes & (1 << UInt64((secondOfDay / 60) % 60)) != 0
            && hours & (1 << UInt32(secondOfDay / 3_600)) != 0
            && dayMatches(day)
    }

    /// The first instant strictly after `date` at which the schedule fires (at second 0 of a
    /// minute), or nil if it never fires within 28 years.
    public func next(after date: Date, in timeZone: TimeZone) -> Date? {
        let after = date.timeIntervalSince1970
        let wall = WallClock(date, timeZone)
        let (startDay, startSecond) = wall.floorDiv(86_400)
        let startMinute = startSecond / 60
        for day in startDay...(startDay + 28 * 366) {
            guard dayMatches(day) else { continue }
            for hour in 0..<24 where hours & (1 << UInt32(hour)) != 0 {
                for minute in 0..<60 where minutes & (1 << UInt64(minute)) != 0 {
                    if day == startDay && Int64(hour * 60 + minute) < startMinute { continue }
                    let local = day * 86_400 + Int64(hour * 3_600 + minute * 60)
                    let instants = WallClock.instants(ofLocal: local, in: timeZone)
                    let candidates = repeatsInOverlap ? instants : Array(instants.prefix(1))
                    if let instant = candidates.first(where: { Double($0) > after }) {
                        return Date(timeIntervalSince1970: Double(instant))
                    }
                }
            }
        }
        return nil
    }

    // MARK: - Matching

    private func dayMatches(_ day: Int64) -> Bool {
        let (_, month, dayOfMonth) = Civil.date(fromDays: day)
        guard months & (1 << UInt16(month)) != 0 else { return false }
        let domMatch = daysOfMonth & (1 << UInt32(dayOfMonth)) != 0
        let dowMatch = daysOfWeek & (1 << UInt8(Civil.weekday(fromDays: day))) != 0
        if dayOfMonthRestricted && dayOfWeekRestricted { return domMatch || dowMatch }
        return domMatch && dowMatch
    }

    private static func maximumDays(ofMonth month: Int) -> Int {
        switch month {
        case 2: return 29
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // MARK: - Parsing

    private enum Field {
        case minute, hour, dayOfMonth, month, dayOfWeek

        var name: String {
            switch self {
            case .minute: return "minute"
            case .hour: return "hour"
            case .dayOfMonth: return "day-of-month"
            case .month: return "month"
            case .dayOfWeek: return "day-of-week"
            }
        }

        /// Values accepted in a field.
        var bounds: ClosedRange<Int> {
            switch self {
            case .minute: return 0...59
            case .hour: return 0...23
            case .dayOfMonth: return 1...31
            case .month: return 1...12
            case .dayOfWeek: return 0...7
            }
        }

        /// What `*` and the open end of `a/n` cover.
        var full: ClosedRange<Int> {
            self == .dayOfWeek ? 0...6 : bounds
        }

        var names: [String] {
            switch self {
            case .month: return ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
            case .dayOfWeek: return ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
            default: return []
            }
        }

        var firstNameValue: Int { self == .month ? 1 : 0 }
    }

    private static func parse(_ text: String, _ field: Field) throws(PolicyValueError) -> UInt64 {
        var bits: UInt64 = 0
        for item in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            guard !item.isEmpty else {
                throw PolicyValueError("\(field.name) \"\(text)\" has an empty list item")
            }
            let parts = item.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count <= 2 else {
                throw PolicyValueError("\(field.name) \"\(item)\" has more than one step")
            }
            var range: ClosedRange<Int>
            let base = parts[0]
            if base == "*" {
                range = field.full
            } else if let dash = base.firstIndex(of: "-") {
                let low = try value(String(base[..<dash]), field, item: item)
                let high = try value(String(base[base.index(after: dash)...]), field, item: item)
                guard low <= high else {
                    throw PolicyValueError("\(field.name) range \(base) runs backwards (\(low) > \(high))")
                }
                range = low...high
            } else {
                let single = try value(base, field, item: item)
                range = parts.count == 2 ? single...max(single, field.full.upperBound) : single...single
            }
            var step = 1
            if parts.count == 2 {
                let span = field.full.upperBound - field.full.lowerBound
                guard let parsed = Int(parts[1]), parts[1].allSatisfy({ $0.isASCII && $0.isNumber }) else {
                    throw PolicyValueError("\(field.name) \"\(item)\" has an invalid step \"\(parts[1])\": expected a number")
                }
                guard parsed >= 1 && parsed <= span else {
                    throw PolicyValueError("\(field.name) step \(parsed) in \"\(item)\" is out of range 1-\(span)")
                }
                step = parsed
            }
            for value in stride(from: range.lowerBound, through: range.upperBound, by: step) {
                bits |= 1 << UInt64(value)
            }
        }
        return bits
    }

    private static func value(_ text: String, _ field: Field, item: String) throws(PolicyValueError) -> Int {
        guard !text.isEmpty else {
            throw PolicyValueError("\(field.name) \"\(item)\" is missing a number")
        }
        if text.allSatisfy({ $0.isASCII && $0.isNumber }) {
            guard let number = Int(text), field.bounds.contains(number) else {
                throw PolicyValueError("\(field.name) \(text) is out of range \(field.bounds.lowerBound)-\(field.bounds.upperBound)")
            }
            return number
        }
        let names = field.names
        if !names.isEmpty, text.allSatisfy({ $0.isASCII && $0.isLetter }) {
            if let index = names.firstIndex(of: text.lowercased()) {
                return index + field.firstNameValue
            }
            let hint = Suggest.nearest(to: text.lowercased(), in: names).map { "; did you mean \($0)?" }
                ?? " (expected \(names.first!)...\(names.last!))"
            throw PolicyValueError("unknown \(field.name) name \"\(text)\"\(hint)")
        }
        let expected = names.isEmpty
            ? "a number \(field.bounds.lowerBound)-\(field.bounds.upperBound)"
            : "a number \(field.bounds.lowerBound)-\(field.bounds.upperBound) or a name \(names.first!)...\(names.last!)"
        throw PolicyValueError("invalid \(field.name) \"\(text)\": expected \(expected)")
    }
}

/// Local wall-clock seconds since 1970-01-01T00:00 (as if that wall clock were UTC).
struct WallClock {
    var seconds: Int64

    init(_ date: Date, _ timeZone: TimeZone) {
        let instant = Int64(date.timeIntervalSince1970.rounded(.down))
        seconds = instant + Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant))))
    }

    func floorDiv(_ divisor: Int64) -> (Int64, Int64) {
        let quotient = seconds >= 0 ? seconds / divisor : -((-seconds + divisor - 1) / divisor)
        return (quotient, seconds - quotient * divisor)
    }

    private static func offset(_ instant: Int64, _ timeZone: TimeZone) -> Int64 {
        Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant))))
    }

    /// The instants (seconds since the epoch, ascending) whose wall clock in `timeZone` reads
    /// `local`: one normally, two in a fall-back overlap. For a time skipped by a forward change,
    /// the single instant of the change.
    static func instants(ofLocal local: Int64, in timeZone: TimeZone) -> [Int64] {
        var offsets = Set([-2 * 86_400, 0, 2 * 86_400].map { offset(local + Int64($0), timeZone) })
        for candidate in Array(offsets) { offsets.insert(offset(local - candidate, timeZone)) }
        let found = Set(offsets.filter { offset(local - $0, timeZone) == $0 }.map { local - $0 }).sorted()
        if !found.isEmpty { return found }
        // In a gap: the change lies between (local - largest offset) and (local - smallest offset).
        guard let largest = offsets.max(), let smallest = offsets.min() else { return [] }
        var low = local - largest       // wall clock before the change
        var high = local - smallest     // wall clock after the change
        let before = offset(low, timeZone)
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if offset(middle, timeZone) == before { low = middle } else { high = middle }
        }
        return [high]
    }
}

/// Proleptic Gregorian calendar arithmetic on days since 1970-01-01 (H. Hinnant's algorithms).
enum Civil {
    static func date(fromDays days: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func days(year: Int64, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// 0 = Sunday.
    static func weekday(fromDays days: Int64) -> Int {
        Int(days >= -4 ? (days + 4) % 7 : (days + 5) % 7 + 6)
    }
}
