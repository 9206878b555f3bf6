import ArgumentParser
import DrctlStorage
import Foundation

/// `--point-in-time TIME` (restore, drill): RFC 3339, and not together with `--backup`.
enum PointInTimeOption {
    static func parse(_ text: String?, backup: String?) throws -> Date? {
        guard let text else { return nil }
        guard backup == nil else { throw ValidationError("--backup and --point-in-time exclude each other") }
        guard let time = Timestamp.parse(text) else {
            throw ValidationError("--point-in-time '\(text)' is not an RFC 3339 time (2026-11-22T03:00:00Z)")
        }
        return time
    }
}
