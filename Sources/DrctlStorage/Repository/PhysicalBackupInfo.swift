import Foundation

/// What a physical base backup's manifest records beyond every backup's fields
/// (docs/FORMAT.md, "Physical base backups"): where its WAL starts and ends, on which timeline,
/// of which cluster, and the tablespaces its archives hold.
public struct PhysicalBackupInfo: Codable, Sendable, Equatable {
    /// The manifest's `kind` for a physical base backup.
    public static let kind = "postgres-physical"

    /// `fast` or `spread`.
    public var checkpoint: String
    /// `X/X` text, as the server returned them.
    public var startLSN: String
    public var endLSN: String
    /// The WAL segment file names of the first and last segment the backup needs.
    public var startWAL: String
    public var endWAL: String
    /// `IDENTIFY_SYSTEM`'s system identifier, decimal text (a 64-bit value).
    public var systemIdentifier: String
    public var tablespaces: [PhysicalTablespace]
    public var timeline: UInt32
    public var walSegmentSize: Int

    public init(checkpoint: String, startLSN: String, endLSN: String, startWAL: String, endWAL: String,
                systemIdentifier: String, tablespaces: [PhysicalTablespace], timeline: UInt32, walSegmentSize: Int) {
        self.checkpoint = checkpoint
        self.startLSN = startLSN
        self.endLSN = endLSN
        self.startWAL = startWAL
        self.endWAL = endWAL
        self.systemIdentifier = systemIdentifier
        self.tablespaces = tablespaces
        self.timeline = timeline
        self.walSegmentSize = walSegmentSize
    }

    /// `systemIdentifier` as a number, read as the WAL archive's keys write it (decimal, no
    /// leading zeros); nil when the manifest's text is not one.
    public var cluster: UInt64? { WalLayout.parseSystemIdentifier(systemIdentifier) }

    enum CodingKeys: String, CodingKey {
        case checkpoint, tablespaces, timeline
        case startLSN = "start_lsn", endLSN = "end_lsn", startWAL = "start_wal", endWAL = "end_wal"
        case systemIdentifier = "system_identifier", walSegmentSize = "wal_segment_size"
    }
}

/// A tablespace of a physical base backup: its OID, its directory on the source server, and the
/// object holding its archive.
public struct PhysicalTablespace: Codable, Sendable, Equatable {
    public var oid: UInt32
    public var location: String
    public var object: String

    public init(oid: UInt32, location: String, object: String) {
        self.oid = oid
        self.location = location
        self.object = object
    }
}
