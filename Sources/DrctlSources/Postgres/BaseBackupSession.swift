import CPostgres
import DrctlPipeline
import Foundation

/// One base backup read over a physical replication connection (PostgreSQL 15+'s protocol:
/// src/backend/backup/basebackup_copy.c). `BASE_BACKUP` answers with a result holding the start
/// position, a result listing the tablespaces, then one COPY OUT stream whose CopyData messages
/// each begin with a type byte: `n` a new archive (its name and the tablespace's location),
/// `d` data of the current archive or manifest, `p` progress, `m` the manifest starts; after
/// the COPY, a result holding the end position.
///
/// The archives are read one after the other, each as a `ByteSource` (`archive(named:)`), in
/// the order the server sends them: every tablespace's `<oid>.tar`, then `base.tar`, then the
/// manifest (`backup_manifest`). Blocking (libpq): call it from a dedicated thread.
// unchecked: one archive source reads at a time (the backup streams its objects one after the
// other); `cancel` only shuts the socket down, which is safe from any thread.
public final class BaseBackupSession: @unchecked Sendable {
    /// What `IDENTIFY_SYSTEM` and `SHOW` say about the server.
    public struct Server: Sendable, Equatable {
        /// The cluster's system identifier, as decimal text (a 64-bit value).
        public var systemIdentifier: String
        /// The current timeline.
        public var timeline: UInt32
        public var versionNumber: Int
        /// `wal_segment_size`, in bytes.
        public var walSegmentSize: Int
        /// e.g. "15.20".
        public var version: String { postgresVersionString(versionNumber) }
    }

    /// A tablespace other than the data directory's, as the start of the backup lists it.
    public struct Tablespace: Sendable, Equatable {
        public var oid: UInt32
        public var location: String

        public init(oid: UInt32, location: String) {
            self.oid = oid
            self.location = location
        }

        /// Its archive's name (`<oid>.tar`).
        public var archiveName: String { "\(oid).tar" }
    }

    /// A WAL position and its timeline, as the server returned it (`X/X` text).
    public struct Position: Sendable, Equatable {
        public var lsn: String
        public var timeline: UInt32
    }

    /// The manifest's name among the archives.
    public static let manifestName = "backup_manifest"
    /// The main data directory's archive.
    public static let baseArchiveName = "base.tar"

    public let server: Server
    private let connection: PostgresConnection
    /// The position and tablespaces, once `start` ran.
    public private(set) var start: Position?
    public private(set) var tablespaces: [Tablespace] = []
    /// The bytes the server reported sent so far (`p` messages).
    public private(set) var progress: Int64 = 0

    /// A CopyData message read but not yet used up: the part of a `d` message not yet handed on.
    private var pending: UnsafeMutablePointer<CChar>?
    private var pendingRange = 0..<0
    /// The archive the stream is in (nil before the first `n`), and a start-of-archive message
    /// read while finishing the previous one.
    private var current: String?
    private var nextArchive: String?
    private var copyEnded = false

    /// Connects for physical replication and identifies the server. A server older than
    /// PostgreSQL 15 is refused, naming its version.
    public init(_ endpoint: PostgresEndpoint) throws {
        let connection = try PostgresConnection(endpoint.forPhysicalReplication())
        self.connection = connection
        let version = connection.serverVersionNumber
        guard version >= 150000 else {
            throw PostgresError(.unsupportedServer,
                "the PostgreSQL server at \(endpoint.address) is version \(postgresVersionString(version)): physical base backups "
                + "(mode: physical) need PostgreSQL 15 or newer (its BASE_BACKUP streams every tablespace and the backup manifest in one COPY); "
                + "upgrade the server or back it up with mode: logical")
        }
        let identity = try Self.rows(connection, "IDENTIFY_SYSTEM")
        guard let row = identity.first, row.count >= 2, let systemID = row[0], UInt64(systemID) != nil,
              let timeline = row[1].flatMap({ UInt32($0) }) else {
            throw PostgresError(.unsupportedServer, "unexpected answer to IDENTIFY_SYSTEM from \(endpoint.address)")
        }
        let sizeText = try Self.rows(connection, "SHOW wal_segment_size").first?.first ?? nil
        guard let sizeText, let walSegmentSize = Self.bytes(sizeText) else {
            throw PostgresError(.unsupportedServer, "unexpected wal_segment_size from \(endpoint.address): \(String(describing: sizeText))")
        }
        server = Server(systemIdentifier: systemID, timeline: timeline, versionNumber: version, walSegmentSize: walSegmentSize)
    }

    deinit {
        if let pending { PQfreemem(pending) }
        connection.close()
    }

    /// Starts the backup: the checkpoint (`fast` or `spread`), then the start position and the
    /// tablespaces. The server does not wait for WAL archiving at the end (`WAIT false`): drctl
    /// waits for the WAL in its own archive instead.
    public func begin(label: String, fastCheckpoint: Bool) throws {
        let conn = try connection.openConnection()
        let command = "BASE_BACKUP ( LABEL \(quoteLiteral(label)), PROGRESS, CHECKPOINT '\(fastCheckpoint ? "fast" : "spread")', "
            + "WAIT 0, MANIFEST 'yes', MANIFEST_CHECKSUMS 'SHA256', TABLESPACE_MAP )"
        guard PQsendQuery(conn, command) == 1 else { throw connection.connectionProblem(conn, what: "starting BASE_BACKUP") }
        let startRows = try nextRows(conn, what: "BASE_BACKUP (its start position)")
        guard let row = startRows.first, row.count >= 2, let lsn = row[0], let timeline = row[1].flatMap({ UInt32($0) }) else {
            throw unexpected("a start position")
        }
        start = Position(lsn: lsn, timeline: timeline)
        tablespaces = try nextRows(conn, what: "BASE_BACKUP (its tablespaces)").compactMap { row in
            guard row.count >= 2, let oidText = row[0] else { return nil }   // the data directory: no OID
            guard let oid = UInt32(oidText), let location = row[1] else { throw unexpected("a tablespace row") }
            return Tablespace(oid: oid, location: location)
        }
        guard let copy = PQgetResult(conn) else { throw unexpected("the start of the COPY stream") }
        defer { PQclear(copy) }
        guard PQresultStatus(copy) == PGRES_COPY_OUT else {
            throw connection.failure(of: copy, conn, what: "running BASE_BACKUP")
        }
    }

    /// The archives in the order the server sends them: each tablespace's, `base.tar`, the manifest.
    public var archiveNames: [String] {
        tablespaces.map(\.archiveName) + [Self.baseArchiveName, Self.manifestName]
    }

    /// The archive `name`, the next in the stream, as a source; it ends where the next begins.
    public func archive(named name: String) -> ByteSource {
        ArchiveSource(session: self, name: name)
    }

    /// After the manifest: the end position (and the command's completion).
    public func end() throws -> Position {
        let conn = try connection.openConnection()
        guard copyEnded else { throw unexpected("the end of the COPY stream before the end position") }
        let rows = try nextRows(conn, what: "BASE_BACKUP (its end position)")
        guard let row = rows.first, row.count >= 2, let lsn = row[0], let timeline = row[1].flatMap({ UInt32($0) }) else {
            throw unexpected("an end position")
        }
        while let result = PQgetResult(conn) {
            defer { PQclear(result) }
            let status = PQresultStatus(result)
            guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
                throw connection.failure(of: result, conn, what: "ending BASE_BACKUP")
            }
        }
        return Position(lsn: lsn, timeline: timeline)
    }

    /// Makes a blocked read return: the server then abandons the backup.
    public func cancel() {
        if let conn = connection.conn {
            let socket = PQsocket(conn)
            if socket >= 0 { shutdown(socket, Int32(SHUT_RDWR)) }
        }
    }

    // MARK: The COPY stream

    /// Moves to the start of archive `name`: it must be the next one the server sends.
    fileprivate func enter(_ name: String) throws {
        if current == nil || current != name {
            if nextArchive == nil { try skipToNextArchive() }
            guard let next = nextArchive else {
                // The server's own error, if it ended the stream because of one.
                _ = try end()
                throw unexpected("the archive \(name), but the stream ended")
            }
            guard next == name else {
                throw PostgresError(.unsupportedServer,
                    "the server sent the archive \(next) where drctl expected \(name) (the tablespaces it listed at the start: \(archiveNames))")
            }
            current = next
            nextArchive = nil
        }
    }

    /// Bytes of the current archive; 0 where it ends (the next archive or manifest starts, or
    /// the stream ends). Waits for one message, then adds those already received: the server
    /// sends 32 KiB at a time, and a pipeline piece holds several.
    fileprivate func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        var waiting = true
        while filled < buffer.count {
            if let pending, !pendingRange.isEmpty {
                let count = min(buffer.count - filled, pendingRange.count)
                (buffer.baseAddress! + filled).copyMemory(from: pending + pendingRange.lowerBound, byteCount: count)
                pendingRange = pendingRange.lowerBound + count..<pendingRange.upperBound
                filled += count
                waiting = false
                continue
            }
            guard nextArchive == nil, !copyEnded else { break }
            switch try nextMessage(wait: waiting) {
            case .data: continue
            case .archiveStarts(let name): nextArchive = name
            case .ended: break
            case .notYet: return filled
            }
        }
        return filled
    }

    /// Reads messages until the next archive starts (anything before it is not part of one).
    private func skipToNextArchive() throws {
        while nextArchive == nil, !copyEnded {
            if case .archiveStarts(let name) = try nextMessage(wait: true) { nextArchive = name }
        }
    }

    private enum Message { case data, archiveStarts(String), ended, notYet }

    /// The next CopyData message: data (left in `pending`), a start of archive, or the end;
    /// without `wait`, `notYet` when libpq has no whole message buffered.
    private func nextMessage(wait: Bool = true) throws -> Message {
        let conn = try connection.openConnection()
        while true {
            if let pending { PQfreemem(pending) }
            pending = nil
            pendingRange = 0..<0
            var buffer: UnsafeMutablePointer<CChar>?
            let length = Int(PQgetCopyData(conn, &buffer, wait ? 0 : 1))
            if length == 0 { return .notYet }
            if length == -1 {
                copyEnded = true
                return .ended
            }
            guard length > 0, let buffer else {
                throw connection.connectionProblem(conn, what: "reading the base backup")
            }
            pending = buffer
            switch UInt8(bitPattern: buffer[0]) {
            case UInt8(ascii: "d"):
                pendingRange = 1..<length
                return .data
            case UInt8(ascii: "p"):
                if length >= 9 {
                    progress = (1...8).reduce(Int64(0)) { $0 << 8 | Int64(UInt8(bitPattern: buffer[$1])) }
                }
            case UInt8(ascii: "n"):
                // The archive's name, then the tablespace's location: two NUL-terminated strings.
                let name = String(cString: buffer + 1)
                return .archiveStarts(name)
            case UInt8(ascii: "m"):
                return .archiveStarts(Self.manifestName)
            default:
                throw PostgresError(.unsupportedServer,
                    "the server sent a base backup message of type '\(Character(UnicodeScalar(UInt8(bitPattern: buffer[0]))))' that drctl does not know")
            }
        }
    }

    // MARK: Results

    /// The rows of the next result, which must be one (a replication command's answer).
    private func nextRows(_ conn: OpaquePointer, what: String) throws -> [[String?]] {
        guard let result = PQgetResult(conn) else { throw unexpected("a result of \(what)") }
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_TUPLES_OK else {
            throw connection.failure(of: result, conn, what: "running \(what)")
        }
        return PostgresConnection.rows(of: result)
    }

    /// A replication command's rows (simple query protocol: the only one replication connections speak).
    private static func rows(_ connection: PostgresConnection, _ command: String) throws -> [[String?]] {
        let conn = try connection.openConnection()
        guard let result = PQexec(conn, command) else { throw connection.connectionProblem(conn, what: "running \(command)") }
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_TUPLES_OK else {
            throw connection.failure(of: result, conn, what: "running \(command)")
        }
        return PostgresConnection.rows(of: result)
    }

    /// "16MB" (`SHOW wal_segment_size`) → 16777216.
    static func bytes(_ text: String) -> Int? {
        let units: [(String, Int)] = [("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10), ("B", 1)]
        for (suffix, size) in units where text.hasSuffix(suffix) {
            return Int(text.dropLast(suffix.count)).map { $0 * size }
        }
        return Int(text)
    }

    private func unexpected(_ what: String) -> PostgresError {
        PostgresError(.unsupportedServer, "unexpected answer from \(connection.endpoint.address) during BASE_BACKUP: expected \(what)")
    }
}

/// One archive of a base backup as a pipeline's source.
private final class ArchiveSource: ByteSource {
    let session: BaseBackupSession
    let name: String
    private var entered = false

    init(session: BaseBackupSession, name: String) {
        self.session = session
        self.name = name
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if !entered {
            try session.enter(name)
            entered = true
        }
        return try session.read(into: buffer)
    }

    func finish() throws {}

    func cancel() { session.cancel() }
}
