import Foundation
import DrctlCrypto

/// Everything needed to find, check, decrypt and restore one backup, and the facts drills
/// compare against. Its presence in a region is what makes a backup exist there: it is
/// written last, after every object it names. Schema: docs/FORMAT.md, "Backup manifest".
public struct BackupManifest: Codable, Sendable, Equatable {
    public static let formatName = "drctl-backup-manifest"
    public static let currentVersion = 2

    public var format: String = BackupManifest.formatName
    /// 1, or 2 when the manifest carries its `authentication` (`sealed(...)`).
    public var version: Int = 1
    public var backupID: String
    public var target: String
    public var kind: String
    public var tool: ToolInfo
    public var startedAt: Date
    public var finishedAt: Date
    public var consistentPoint: ConsistentPoint
    public var compression: CompressionInfo
    public var encryption: EncryptionInfo
    public var objects: [StoredObject]
    public var rawSize: UInt64
    public var storedSize: UInt64
    public var source: SourceFacts
    /// The regions that held every object when the backup was committed.
    public var regions: [String]
    /// `complete` (every region of the policy) or `degraded` (at least `min_regions`).
    public var status: BackupStatus
    /// PostgreSQL physical base backups (`kind: postgres-physical`): positions, WAL and
    /// tablespaces (docs/FORMAT.md, "Physical base backups"); nil for every other kind.
    public var physical: PhysicalBackupInfo?
    /// Version 2: the target's previous backup as the writer saw it (nil for the first).
    public var previous: BackupReference?
    /// Version 2: the MAC, signature and signer, as decoded; readers check the stored bytes.
    public var authentication: AuthenticationField?
    /// What a reader established about this copy's bytes (not stored).
    public var authenticity: ManifestAuthenticity = .unauthenticated
    /// SHA-256 (hex) of the stored bytes this copy was read from, as a prune record and the
    /// next manifest's `previous` name it (not stored; nil for a manifest not read from a region).
    public var storedSHA256: String?

    public init(backupID: String, target: String, kind: String, tool: ToolInfo, startedAt: Date,
                finishedAt: Date, consistentPoint: ConsistentPoint, compression: CompressionInfo,
                encryption: EncryptionInfo, objects: [StoredObject], source: SourceFacts,
                regions: [String], status: BackupStatus, physical: PhysicalBackupInfo? = nil) {
        self.backupID = backupID
        self.target = target
        self.kind = kind
        self.tool = tool
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.consistentPoint = consistentPoint
        self.compression = compression
        self.encryption = encryption
        self.objects = objects
        self.rawSize = objects.reduce(0) { $0 + $1.rawSize }
        self.storedSize = objects.reduce(0) { $0 + $1.storedSize }
        self.source = source
        self.regions = regions
        self.status = status
        self.physical = physical
    }

    public var id: BackupID? { BackupID(backupID) }

    enum CodingKeys: String, CodingKey {
        case format, version, target, kind, tool, compression, encryption, objects, source, regions, status
        case previous, authentication, physical
        case backupID = "backup_id", startedAt = "started_at", finishedAt = "finished_at"
        case consistentPoint = "consistent_point", rawSize = "raw_size", storedSize = "stored_size"
    }
}

/// A backup as another document names it (docs/FORMAT.md): its id and the SHA-256 of its
/// manifest's stored bytes. A version 2 manifest's `previous` (its target's previous backup,
/// "Chain and deletions") and a prune record's `removed[]` ("Prune record").
public struct BackupReference: Codable, Sendable, Equatable {
    public var backupID: String
    public var sha256: String

    public init(backupID: String, sha256: String) {
        self.backupID = backupID
        self.sha256 = sha256
    }

    /// A manifest as it was read (`storedSHA256`, which readers set); nil for one never stored.
    public init?(_ manifest: BackupManifest) {
        guard let sha256 = manifest.storedSHA256 else { return nil }
        self.init(backupID: manifest.backupID, sha256: sha256)
    }

    enum CodingKeys: String, CodingKey {
        case backupID = "backup_id", sha256
    }
}

/// What a reader established about a manifest copy's bytes: nothing (version 1, believed as
/// version 1 always was), or its writer's signature checked for the address it was read at,
/// with the authenticated bytes kept for the MAC that readers holding the data key check.
public enum ManifestAuthenticity: Sendable, Equatable {
    case unauthenticated
    case signed(DocumentAddress, AuthenticatedBytes)
}

public enum BackupStatus: String, Codable, Sendable {
    case complete, degraded
}

public struct ToolInfo: Codable, Sendable, Equatable {
    public var name: String
    public var version: String

    public init(name: String = "drctl", version: String) {
        self.name = name
        self.version = version
    }
}

/// The moment the backup's data reflects. For a program's output drctl only knows it is no
/// older than the program's start (`at-or-after`); a Redis snapshot is exactly the state at its
/// replication offset (`snapshot`, with `time` when it was requested).
public struct ConsistentPoint: Codable, Sendable, Equatable {
    public var time: Date
    public var precision: String
    /// Redis: the replication id and offset the RDB was taken at.
    public var replicationID: String?
    public var replicationOffset: Int64?
    /// PostgreSQL: the WAL position (and timeline) when the dump started.
    public var lsn: String?
    public var timeline: Int?

    public init(time: Date, precision: String, replicationID: String? = nil, replicationOffset: Int64? = nil,
                lsn: String? = nil, timeline: Int? = nil) {
        self.time = time
        self.precision = precision
        self.replicationID = replicationID
        self.replicationOffset = replicationOffset
        self.lsn = lsn
        self.timeline = timeline
    }

    enum CodingKeys: String, CodingKey {
        case time, precision, lsn, timeline
        case replicationID = "replication_id", replicationOffset = "replication_offset"
    }
}

/// Facts about the source, recorded at backup time; drills compare a restore against them.
/// Every field is optional: each kind of target fills its own.
public struct SourceFacts: Codable, Sendable, Equatable {
    /// Command targets: the program (argv[0]; never the arguments, which may hold secrets).
    public var program: String?
    /// Database targets: the server's version.
    public var serverVersion: String?
    /// Redis: keys per database ("0": 1200) when the snapshot was requested.
    public var keyspace: [String: Int]?
    /// PostgreSQL: the databases dumped, and the rows of each table just before.
    public var databases: [String]?
    public var tables: [TableRows]?

    public init(program: String? = nil, serverVersion: String? = nil, keyspace: [String: Int]? = nil,
                databases: [String]? = nil, tables: [TableRows]? = nil) {
        self.program = program
        self.serverVersion = serverVersion
        self.keyspace = keyspace
        self.databases = databases
        self.tables = tables
    }

    enum CodingKeys: String, CodingKey {
        case program, keyspace, databases, tables
        case serverVersion = "server_version"
    }
}

/// The rows of one PostgreSQL table at backup time: exact, or the planner's estimate for
/// tables above the policy's threshold (`estimated`).
public struct TableRows: Codable, Sendable, Equatable {
    public var database: String
    public var schema: String
    public var table: String
    public var rows: Int64
    public var estimated: Bool

    public init(database: String, schema: String, table: String, rows: Int64, estimated: Bool) {
        self.database = database
        self.schema = schema
        self.table = table
        self.rows = rows
        self.estimated = estimated
    }
}

public struct CompressionInfo: Codable, Sendable, Equatable {
    public var algorithm: String
    public var level: Int32

    public init(algorithm: String = "zstd", level: Int32) {
        self.algorithm = algorithm
        self.level = level
    }
}

public struct EncryptionInfo: Codable, Sendable, Equatable {
    /// The sealed-stream format of every object ("drctl-sealed-stream-v1").
    public var stream: String
    public var chunkSize: Int
    /// The backup's random data key, wrapped for the repository key.
    public var dataKey: WrappedDataKey

    public init(stream: String = "drctl-sealed-stream-v1", chunkSize: Int, dataKey: WrappedDataKey) {
        self.stream = stream
        self.chunkSize = chunkSize
        self.dataKey = dataKey
    }

    enum CodingKeys: String, CodingKey {
        case stream
        case chunkSize = "chunk_size", dataKey = "data_key"
    }
}

public struct StoredObject: Codable, Sendable, Equatable {
    /// The object's name inside the backup ("stdout", later "db-app.dump", "globals.sql").
    public var name: String
    /// Its key relative to the region's root.
    public var key: String
    public var rawSize: UInt64
    public var storedSize: UInt64
    /// SHA-256 of the stored (sealed) bytes, lowercase hex.
    public var sha256: String
    /// PostgreSQL: the database this archive holds.
    public var database: String?

    public init(name: String, key: String, rawSize: UInt64, storedSize: UInt64, sha256: String, database: String? = nil) {
        self.name = name
        self.key = key
        self.rawSize = rawSize
        self.storedSize = storedSize
        self.sha256 = sha256
        self.database = database
    }

    enum CodingKeys: String, CodingKey {
        case name, key, sha256, database
        case rawSize = "raw_size", storedSize = "stored_size"
    }
}

extension BackupManifest {
    /// Manifests are pretty-printed with sorted keys: humans read them during incidents.
    public func encoded() throws -> [UInt8] {
        Array(try ManifestCoding.encoder.encode(self)) + [0x0a]
    }

    public static func decode(_ bytes: [UInt8]) throws -> BackupManifest {
        try ManifestCoding.decoder.decode(BackupManifest.self, from: Data(bytes))
    }
}

/// The JSON conventions of everything drctl stores: snake_case keys (declared per type),
/// RFC 3339 UTC timestamps with milliseconds.
public enum ManifestCoding {
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.format(date))
        }
        return encoder
    }

    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an RFC 3339 time: \(text)")
            }
            return date
        }
        return decoder
    }
}

private extension Int64 {
    func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}

/// RFC 3339 timestamps in UTC with milliseconds: `2026-11-22T05:10:08.123Z`.
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        // Whole milliseconds, rounded (the formatter would truncate 0.123 stored as 0.12299…).
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let seconds = Date(timeIntervalSince1970: TimeInterval(milliseconds.floorDivided(by: 1000)))
        let whole = seconds.formatted(Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!))
        return String(whole.dropLast()) + String(format: ".%03dZ", Int(milliseconds - milliseconds.floorDivided(by: 1000) * 1000))
    }

    public static func parse(_ text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        return try? Date.ISO8601FormatStyle().parse(text)
    }
}
