import Foundation
import DrctlPipeline
import DrctlPolicy
import DrctlSources
import DrctlStorage

/// `kind: postgres`, `mode: physical`: one base backup over the replication protocol
/// (`BaseBackupSession`, PostgreSQL 15+): every tablespace's archive, `base.tar` and PostgreSQL's
/// `backup_manifest`, each streamed as one object straight from the COPY stream into the
/// regions (docs/FORMAT.md, "Physical base backups"). The backup is committed only once the WAL
/// from its start to its end segment is in the WAL archive at quorum (`WalQuorumWait`, run by
/// `BackupJob` for any plan with a `physical` object).
///
/// The password reaches libpq as a keyword/value pair (`PostgresEndpoint`), never an argv or an
/// environment.
final class PostgresPhysicalPlan: BackupPlan {
    let kind = PhysicalBackupInfo.kind
    private let targetName: String
    private let endpoint: PostgresEndpoint
    private let checkpoint: PostgresCheckpoint
    private let session: BaseBackupSession
    private var end: BaseBackupSession.Position?
    private var endedAt: Date?
    private var info: PhysicalBackupInfo?
    private var gatheringWarnings: [String] = []

    init(target: TargetPolicy) throws {
        guard let connection = target.postgres else {
            throw JobError.unsupportedKind(target: target.name, kind: "postgres without a connection")
        }
        endpoint = PostgresEndpoint(host: connection.host, port: connection.port, user: connection.user,
                                    password: try connection.password?.resolve(), database: "postgres",
                                    sslmode: connection.sslmode.rawValue)
        targetName = target.name
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
        let end = try session.end()
        self.end = end
        endedAt = serverClock()
        guard let start = session.start else {
            throw PhysicalBackupError.implausibleServerAnswer(target: targetName, what: "no start position")
        }
        info = try Self.physicalInfo(target: targetName, checkpoint: checkpoint.rawValue, server: server, start: start, end: end,
                                     tablespaces: session.tablespaces)
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
    var physical: PhysicalBackupInfo? { info }

    /// The manifest's `physical` object from the server's answers, which are not trusted
    /// blindly: a position that is not `X/X`, an end not after the start (a zero or malformed
    /// answer), a segment size PostgreSQL cannot have, or a system identifier that is not the
    /// decimal number the WAL archive is keyed by (`PhysicalBackupInfo.cluster`) is refused by
    /// name, instead of becoming a range that wraps around (or a trap) or cluster 0. The WAL range ends with the segment
    /// holding the byte before the end position, which may be the first byte of a segment the
    /// backup does not need.
    static func physicalInfo(target: String, checkpoint: String, server: BaseBackupSession.Server,
                             start: BaseBackupSession.Position, end: BaseBackupSession.Position,
                             tablespaces: [BaseBackupSession.Tablespace]) throws -> PhysicalBackupInfo {
        let size = server.walSegmentSize
        guard WalFileName.isValidSegmentSize(size) else {
            throw PhysicalBackupError.implausibleServerAnswer(
                target: target, what: "wal_segment_size \(size), which is not a power of two from 1 MiB to 1 GiB")
        }
        guard let first = LSN(start.lsn), let last = LSN(end.lsn), first < last else {
            throw PhysicalBackupError.implausibleServerAnswer(
                target: target, what: "BASE_BACKUP's start position '\(start.lsn)' and end position '\(end.lsn)', which are not "
                    + "a WAL range (the end must be a position after the start)")
        }
        let info = PhysicalBackupInfo(
            checkpoint: checkpoint, startLSN: start.lsn, endLSN: end.lsn,
            startWAL: "\(WalFileName.segment(containing: first, timeline: start.timeline, segmentSize: size))",
            endWAL: "\(WalFileName.segment(containing: LSN(last.value - 1), timeline: end.timeline, segmentSize: size))",
            systemIdentifier: server.systemIdentifier,
            tablespaces: tablespaces.map { PhysicalTablespace(oid: $0.oid, location: $0.location, object: $0.archiveName) },
            timeline: end.timeline, walSegmentSize: size)
        guard info.cluster != nil else {
            throw PhysicalBackupError.unreadableSystemIdentifier(target: target, text: server.systemIdentifier)
        }
        return info
    }

    func finished(startedAt: Date) -> (ConsistentPoint, SourceFacts) {
        let point = ConsistentPoint(time: endedAt ?? Date(), precision: "recoverable", lsn: end?.lsn,
                                    timeline: end.map { Int($0.timeline) })
        return (point, SourceFacts(serverVersion: server.version))
    }

    var warnings: [String] { gatheringWarnings }
}
