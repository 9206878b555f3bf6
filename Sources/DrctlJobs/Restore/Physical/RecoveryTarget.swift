import Foundation
import DrctlStorage

/// Where a point-in-time restore stops replaying WAL: the end of the archive (`latest`), the
/// last commit at or before a time, or a WAL position. Written as PostgreSQL's `recovery_target_*`
/// settings (`RecoverySettings`).
public enum RecoveryTarget: Sendable, Equatable {
    case latest
    case time(Date)
    case lsn(String)

    /// `--point-in-time`: `latest`, or an RFC 3339 time that says its offset (`Z` or `+01:00`):
    /// a time without one would be read in some zone nobody chose.
    public static func parse(time text: String) throws -> RecoveryTarget {
        if text == "latest" { return .latest }
        guard hasOffset(text), let date = parseTime(text) else {
            throw PhysicalRestoreError.badTime(text)
        }
        return .time(date)
    }

    /// `--lsn`: PostgreSQL's `X/X` hexadecimal position.
    public static func parse(lsn text: String) throws -> RecoveryTarget {
        guard let lsn = LSN(text) else { throw PhysicalRestoreError.badLSN(text) }
        return .lsn("\(lsn)")
    }

    private static func hasOffset(_ text: String) -> Bool {
        guard let t = text.firstIndex(where: { $0 == "T" || $0 == "t" || $0 == " " }) else { return false }
        let clock = text[text.index(after: t)...]
        return clock.hasSuffix("Z") || clock.hasSuffix("z") || clock.contains("+") || clock.contains("-")
    }

    /// RFC 3339 with any number of fraction digits (PostgreSQL prints microseconds).
    static func parseTime(_ text: String) -> Date? {
        let normalized = text.replacingOccurrences(of: " ", with: "T")
        var whole = normalized, fraction = 0.0
        if let dot = normalized.firstIndex(of: ".") {
            let digits = normalized[normalized.index(after: dot)...].prefix { $0.isNumber }
            fraction = Double("0." + digits) ?? 0
            whole = String(normalized[..<dot]) + String(normalized[normalized.index(after: dot)...].dropFirst(digits.count))
        }
        guard let date = try? Date.ISO8601FormatStyle().parse(whole) else { return nil }
        return date.addingTimeInterval(fraction)
    }
}

/// A time as PostgreSQL reads it, to the microsecond, in UTC: `2026-12-06 21:40:01.123456+00`.
enum PostgresTimeText {
    static func utc(_ date: Date) -> String {
        let micros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        let seconds = (micros / 1_000_000).rounded(.down)
        let fraction = Int(micros - seconds * 1_000_000)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: seconds))
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d.%06d+00", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!, fraction)
    }

    /// The same moment in `zone`, with its offset there (for people: "… in the server's time zone").
    static func local(_ date: Date, zone: TimeZone) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss.SSSSSSxxx"
        return "\(formatter.string(from: date)) \(zone.identifier)"
    }
}
