import Foundation
import DrctlPipeline
import DrctlPolicy
import DrctlSources
import DrctlStorage

/// `kind: postgres`, `mode: physical`: one base backup over the replication protocol
/// (`BaseBackupSession`, PostgreSQL 15+): every tablespace's archive, `base.tar` and PostgreSQL's
/// `backup_manifest`, each streamed as one object straight from the COPY stream into the
/// regions (docs/FORMAT.md, "Physical base backups"). The backup is committed only once the WAL
/// from its start to its end segment is in the WAL archive at quorum (`awaitWAL`).
///
/// The password reaches libpq as a keyword/value pair (`PostgresEndpoint`), never an argv or an
/// environment.
final class PostgresPhysicalPlan: BackupPlan {
    let kind = PhysicalBackupInfo.kind
    private let endpoint: PostgresEndpoint
    private let checkpoint: PostgresCheckpoint
    private let session: BaseBackupSession
    private var end: BaseBackupSession.Position?
    private var endedAt: Date?
    private var gatheringWarnings: [String] = []

    init(target: TargetPolicy) throws {
        guard let connection = target.postgres else {
            throw JobError.unsupportedKind(target: target.name, kind: "postgres without a connection")
        }
        endpoint = PostgresEndpoint(host: connection.host, port: connection.port, user: connection.user,
                                    password: try connection.password?.resolve(), database: "postgres",
                                    sslmode: connection.sslmode.rawValue)
        checkpoint = connection.checkpoint
        session = try BaseBackupSession(endpoint)
    }

    var server: BaseBackupSession.Server { session.server }

    /// The backup starts (its checkpoint) only once the run holds the target's lock.
    func begin(label: String) throws {
        try session.begin(label: label, fastCheckpoint: checkpoint == .fast)
    }

    var objectNames: [String] { session.archiveNames }

    func source(for object: String) throws -> ByteSource {
        session.archive(named: object)
    }

    /// The end position, read once the manifest was streamed, and the server's clock then.
    func streamed() throws {
        end = try session.end()
        endedAt = serverClock()
    }

    /// The server's clock (a plain connection: a replication connection runs no SQL); the
    /// local clock, with a warning, when it cannot be read.
    private func serverClock() -> Date {
        do {
            let connection = try PostgresConnection(endpoint)
            defer { connection.close() }
            if let text = try connection.query("SELECT extract(epoch FROM clock_timestamp())::float8::text").first?[0],
               let seconds = Double(text) {
                return Date(timeIntervalSince1970: seconds)
            }
        } catch {
            gatheringWarnings.append("the server's clock could not be read (\(error)); the backup's end time is this host's clock")
        }
        return Date()
    }

    /// The manifest's `physical` object (after `streamed`).
    var physical: PhysicalBackupInfo? {
        guard let start = session.start, let end else { return nil }
        let size = server.walSegmentSize
        return PhysicalBackupInfo(
            checkpoint: checkpoint.rawValue, startLSN: start.lsn, endLSN: end.lsn,
            startWAL: WalSegmentName.containing(start.lsn, timeline: start.timeline, segmentSize: size) ?? "",
            endWAL: WalSegmentName.before(end.lsn, timeline: end.timeline, segmentSize: size) ?? "",
            systemIdentifier: server.systemIdentifier,
            tablespaces: session.tablespaces.map {
                PhysicalTablespace(oid: $0.oid, location: $0.location, object: $0.archiveName)
            },
            timeline: end.timeline, walSegmentSize: size)
    }

    func finished(startedAt: Date) -> (ConsistentPoint, SourceFacts) {
        let point = ConsistentPoint(time: endedAt ?? Date(), precision: "recoverable", lsn: end?.lsn,
                                    timeline: end.map { Int($0.timeline) })
        return (point, SourceFacts(serverVersion: server.version))
    }

    var warnings: [String] { gatheringWarnings }
}

/// WAL segment file names from `X/X` positions (PostgreSQL's XLogFileName).
enum WalSegmentName {
    /// The segment holding the byte at `lsn`.
    static func containing(_ lsn: String, timeline: UInt32, segmentSize: Int) -> String? {
        parse(lsn).map { name(segment: $0 / UInt64(segmentSize), timeline: timeline, segmentSize: segmentSize) }
    }

    /// The segment holding the last byte before `lsn` (a backup's end position may be the first
    /// byte of a segment no record of the backup reaches).
    static func before(_ lsn: String, timeline: UInt32, segmentSize: Int) -> String? {
        parse(lsn).map { name(segment: ($0 - 1) / UInt64(segmentSize), timeline: timeline, segmentSize: segmentSize) }
    }

    /// The segments from `first` through `last` (names on one timeline).
    static func range(from first: String, through last: String, segmentSize: Int) -> [String] {
        guard let a = number(first, segmentSize: segmentSize), let b = number(last, segmentSize: segmentSize),
              a.timeline == b.timeline, a.segment <= b.segment else { return [] }
        return (a.segment...b.segment).map { name(segment: $0, timeline: a.timeline, segmentSize: segmentSize) }
    }

    static func parse(_ lsn: String) -> UInt64? {
        let parts = lsn.split(separator: "/")
        guard parts.count == 2, let high = UInt64(parts[0], radix: 16), let low = UInt64(parts[1], radix: 16),
              high <= UInt64(UInt32.max), low <= UInt64(UInt32.max) else { return nil }
        return high << 32 | low
    }

    private static func name(segment: UInt64, timeline: UInt32, segmentSize: Int) -> String {
        let perLog = 0x1_0000_0000 / UInt64(segmentSize)
        return String(format: "%08X%08X%08X", timeline, UInt32(segment / perLog), UInt32(segment % perLog))
    }

    private static func number(_ name: String, segmentSize: Int) -> (timeline: UInt32, segment: UInt64)? {
        guard name.count == 24, let timeline = UInt32(name.prefix(8), radix: 16),
              let log = UInt64(name.dropFirst(8).prefix(8), radix: 16), let seg = UInt64(name.suffix(8), radix: 16) else { return nil }
        return (timeline, log * (0x1_0000_0000 / UInt64(segmentSize)) + seg)
    }
}
