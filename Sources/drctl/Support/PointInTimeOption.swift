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

    /// What a restore for `requested` gave, in plain words: which backup, the moment its data is
    /// from (its consistent point, by its precision), and that later changes are not in it.
    static func outcome(requested: Date, manifest: BackupManifest) -> String {
        let point = manifest.consistentPoint
        let gap = "\(Int(requested.timeIntervalSince(point.time).rounded())) s before the requested time"
        let moment = switch point.precision {
        case "snapshot": "its data is the server's state at \(Timestamp.format(point.time)), when the snapshot was taken (\(gap))"
        case "at-or-after": "its data is from \(Timestamp.format(point.time)) or shortly after, when the backup began (\(gap))"
        default: "its data is from about \(Timestamp.format(point.time)) (\(gap))"
        }
        return "point in time \(Timestamp.format(requested)): restored backup \(manifest.backupID), the newest taken at or "
            + "before it; \(moment); changes made after that are not in it"
    }
}
