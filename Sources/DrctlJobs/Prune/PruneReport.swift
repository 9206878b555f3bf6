import Foundation
import DrctlPolicy
import DrctlStorage

/// What `drctl prune` did (or, with `--dry-run`, would do) to one target.
public struct PruneReport: Sendable, Encodable {
    public var target: String
    public var dryRun: Bool
    /// False when the target has no `retention`: every backup is kept, only leftovers go.
    public var hasRetention: Bool
    public var kept: [KeptBackup] = []
    public var removed: [RemovedBackup] = []
    public var leftovers: [Leftover] = []
    /// Archived WAL that no kept base backup needs (physical targets).
    public var wal: [RemovedWal] = []
    /// Problems met on the way (a region that could not be read, an object that could not be
    /// deleted); any makes the command exit non-zero.
    public var errors: [String] = []
    /// Set when another run holds the target's lock: nothing was touched.
    public var lockedBy: String?
    /// The signal (SIGTERM, SIGINT) that stopped the prune part way; what it did not get to is
    /// removed by the next prune.
    public var interruptedBy: String?

    public struct KeptBackup: Sendable, Encodable {
        public var backupID: String
        public var reasons: [RetentionReason]

        enum CodingKeys: String, CodingKey {
            case reasons
            case backupID = "backup_id"
        }
    }

    public struct RemovedBackup: Sendable, Encodable {
        public var backupID: String
        /// The regions it was removed from.
        public var regions: [String]

        enum CodingKeys: String, CodingKey {
            case regions
            case backupID = "backup_id"
        }
    }

    /// A run of WAL files removed from one region (`WalRetention`).
    public struct RemovedWal: Sendable, Encodable {
        public var region: String
        public var range: WalRetention.Range
    }

    /// Something left by a failed or interrupted backup: an object without a manifest, a
    /// temporary file, an unfinished upload.
    public struct Leftover: Sendable, Encodable {
        public enum Kind: String, Sendable, Encodable {
            case object
            case temporaryFile = "temporary_file"
            case unfinishedUpload = "unfinished_upload"
        }

        public var region: String
        public var kind: Kind
        public var key: String
        public var ageSeconds: Double

        enum CodingKeys: String, CodingKey {
            case region, kind, key
            case ageSeconds = "age_seconds"
        }
    }

    enum CodingKeys: String, CodingKey {
        case target, kept, removed, leftovers, errors, wal
        case dryRun = "dry_run", hasRetention = "has_retention", lockedBy = "locked_by", interruptedBy = "interrupted_by"
    }
}
