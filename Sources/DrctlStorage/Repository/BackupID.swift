import Foundation

/// A backup's identity: its UTC start time to the millisecond plus a random suffix, so ids
/// sort by time and two agents starting in the same millisecond cannot collide
/// (`20261122T051008.412Z-3f9a1c`).
public struct BackupID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(startedAt: Date, suffix: String? = nil) {
        let milliseconds = Int64((startedAt.timeIntervalSince1970 * 1000).rounded(.down))
        let seconds = BackupID.secondsFormatter.string(from: Date(timeIntervalSince1970: TimeInterval(milliseconds / 1000)))
        let random = suffix ?? (0..<3).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        rawValue = seconds + String(format: ".%03dZ-", Int(milliseconds % 1000)) + random
    }

    /// Accepts only well-formed ids: they become parts of object keys.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let stamp = Array(parts[0].utf8)
        let suffix = parts[1]
        // yyyyMMddTHHmmss.SSSZ
        guard stamp.count == 20, stamp[15] == UInt8(ascii: "."), stamp[19] == UInt8(ascii: "Z"),
              stamp[16..<19].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
              BackupID.isCalendarTime(stamp[0..<15]),
              suffix.count == 6, suffix.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return nil }
        rawValue = text
    }

    public var description: String { rawValue }

    /// `yyyyMMdd'T'HHmmss` naming a real UTC time (as a strict DateFormatter would accept),
    /// checked by hand: listing a year of daily records parses thousands of ids, and ICU's
    /// date parsing made that most of a report's time.
    private static func isCalendarTime(_ stamp: ArraySlice<UInt8>) -> Bool {
        let bytes = Array(stamp)
        guard bytes.count == 15, bytes[8] == UInt8(ascii: "T") else { return false }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8),
              let hour = number(9..<11), let minute = number(11..<13), let second = number(13..<15),
              year >= 1, (1...12).contains(month), hour < 24, minute < 60, second < 60 else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return (1...days).contains(day)
    }

    public static func < (lhs: BackupID, rhs: BackupID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Formats ids (`init(startedAt:)`); tests use it as the oracle for `isCalendarTime`.
    static let secondsFormatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss"
        formatter.isLenient = false
        return formatter
    }()
}
