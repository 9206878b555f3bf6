import Foundation

/// A calendar month in UTC (`2026-11`): the period a drill report covers. Reports are about
/// months that have ended, so the default is the previous month (run on the 1st, it reports
/// on the month just closed).
public struct ReportMonth: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let year: Int
    /// 1...12
    public let month: Int

    public init?(year: Int, month: Int) {
        guard (1...12).contains(month), (1970...9999).contains(year) else { return nil }
        self.year = year
        self.month = month
    }

    /// `YYYY-MM`, exactly.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2,
              parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let year = Int(parts[0]), let month = Int(parts[1]) else { return nil }
        self.init(year: year, month: month)
    }

    /// The month containing `date` (UTC).
    public init(containing date: Date) {
        let components = Self.calendar.dateComponents([.year, .month], from: date)
        year = components.year!
        month = components.month!
    }

    /// The month before the one containing `date`: what an operator reviews on the 1st.
    public static func previous(to date: Date) -> ReportMonth {
        ReportMonth(containing: date).adding(months: -1)
    }

    public func adding(months: Int) -> ReportMonth {
        let index = year * 12 + (month - 1) + months
        return ReportMonth(uncheckedYear: index / 12, month: index % 12 + 1)
    }

    private init(uncheckedYear: Int, month: Int) {
        self.year = uncheckedYear
        self.month = month
    }

    /// First instant of the month (inclusive).
    public var start: Date {
        Self.calendar.date(from: DateComponents(year: year, month: month, day: 1))!
    }

    /// First instant of the next month (exclusive).
    public var end: Date { adding(months: 1).start }

    public var days: Int { Int((end.timeIntervalSince(start) / 86_400).rounded()) }

    public func contains(_ date: Date) -> Bool { date >= start && date < end }

    /// The `count` months ending with this one, oldest first.
    public func trailing(_ count: Int) -> [ReportMonth] {
        (0..<count).reversed().map { adding(months: -$0) }
    }

    /// The first characters of a backup id (or record id) started at this month's start:
    /// ids sort by time, so `id < idPrefix` means "before this month".
    var idPrefix: String { String(format: "%04d%02d01T000000.000Z", year, month) }

    public var description: String { String(format: "%04d-%02d", year, month) }

    public static func < (lhs: ReportMonth, rhs: ReportMonth) -> Bool {
        (lhs.year, lhs.month) < (rhs.year, rhs.month)
    }

    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()
}
