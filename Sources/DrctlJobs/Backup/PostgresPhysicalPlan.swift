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
            startWAL: Self.segment(holding: LSN(start.lsn), timeline: start.timeline, segmentSize: size),
            endWAL: Self.segment(holding: LSN(end.lsn).map { LSN($0.value - 1) }, timeline: end.timeline, segmentSize: size),
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

    /// The segment holding `lsn` (for the end: the byte before the end position, which may be
    /// the first byte of a segment the backup does not need); "" when the server's answer was
    /// not a position (`WalQuorumWait` then refuses the range).
    private static func segment(holding lsn: LSN?, timeline: UInt32, segmentSize: Int) -> String {
        guard let lsn, WalFileName.isValidSegmentSize(segmentSize) else { return "" }
        return "\(WalFileName.segment(containing: lsn, timeline: timeline, segmentSize: segmentSize))"
    }
}
