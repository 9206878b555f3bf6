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
              BackupID.secondsFormatter.date(from: String(decoding: stamp[0..<15], as: UTF8.self)) != nil,
              suffix.count == 6, suffix.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return nil }
        rawValue = text
    }

    public var description: String { rawValue }

    public static func < (lhs: BackupID, rhs: BackupID) -> Bool { lhs.rawValue < rhs.rawValue }

    private static let secondsFormatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss"
        formatter.isLenient = false
        return formatter
    }()
}
