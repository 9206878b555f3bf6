import Foundation
import DrctlStorage

/// Which archived WAL files `prune` removes (docs/FORMAT.md, "WAL archive"): a physical target
/// keeps the WAL that its oldest kept base backup needs, from that backup's `start_wal` on,
/// and every timeline history file. Pure: the archive's listing and the kept backups' starts
/// come in, the files to remove (grouped in ranges, with the reason) go out.
///
/// It removes only WAL of a cluster (system identifier) that has a kept base backup, and only
/// when there is one: without a base backup no WAL is known to be useless, and an old
/// cluster's archive (before a `pg_upgrade`) is left for the operator to remove.
public enum WalRetention {
    /// Where a kept base backup's WAL begins (its manifest's `physical.start_wal` and
    /// `physical.system_identifier`).
    public struct Start: Sendable, Equatable {
        public var backupID: String
        public var systemIdentifier: UInt64
        public var startWal: WalFileName

        public init(backupID: String, systemIdentifier: UInt64, startWal: WalFileName) {
            self.backupID = backupID
            self.systemIdentifier = systemIdentifier
            self.startWal = startWal
        }
    }

    /// A run of archived files that go, and why.
    public struct Range: Sendable, Encodable, Equatable {
        public var systemIdentifier: String
        public var first: String
        public var last: String
        public var files: Int
        public var reason: String
        /// The files' keys (not printed).
        public var keys: [String]

        enum CodingKeys: String, CodingKey {
            case first, last, files, reason
            case systemIdentifier = "system_identifier"
        }
    }

    /// The files of `archived` (keys under `wal/<target>/`) older than the oldest kept start
    /// of their cluster: segments, partial and backup history files whose segment comes before
    /// the start's (on any timeline: an earlier timeline's segment that far back is history
    /// too). `.history` files stay.
    public static func removable(_ archived: [String], keeping starts: [Start]) -> [Range] {
        var oldest: [UInt64: Start] = [:]
        for start in starts where oldest[start.systemIdentifier].map({ Self.position(start.startWal) < Self.position($0.startWal) }) ?? true {
            oldest[start.systemIdentifier] = start
        }
        var ranges: [Range] = []
        let parsed = archived.compactMap { key in WalLayout.parse(key).map { (key, $0.systemIdentifier, $0.file) } }
            .sorted { ($0.1, $0.2) < ($1.1, $1.2) }
        for (key, system, file) in parsed {
            guard let start = oldest[system], !file.isHistory, Self.position(file) < Self.position(start.startWal) else { continue }
            let reason = "before \(start.startWal), where the oldest kept base backup \(start.backupID) starts"
            if var last = ranges.last, last.systemIdentifier == String(system), last.reason == reason {
                last.last = file.description
                last.files += 1
                last.keys.append(key)
                ranges[ranges.count - 1] = last
            } else {
                ranges.append(Range(systemIdentifier: String(system), first: file.description, last: file.description, files: 1,
                                    reason: reason, keys: [key]))
            }
        }
        return ranges
    }

    /// Where a kept backup's WAL begins: its manifest's `physical` section (docs/FORMAT.md,
    /// "Physical base backups"); nil for a manifest without one (not a physical backup).
    public static func start(of manifest: BackupManifest) -> Start? {
        guard let physical = manifest.physical,
              let system = physical.cluster,
              let start = WalFileName(physical.startWAL), start.kind == .segment else { return nil }
        return Start(backupID: manifest.backupID, systemIdentifier: system, startWal: start)
    }

    /// A file's place in the log, whatever its timeline: its segment's (log, seg).
    private static func position(_ file: WalFileName) -> (UInt32, UInt32) { (file.log, file.seg) }
}
