import DrctlPipeline
import DrctlSources
import DrctlTestSupport
import Foundation
import Testing

/// PostgreSQL 15's BASE_BACKUP over a physical replication connection, against a real cluster.
@Suite struct BaseBackupSessionTests {
    @Test func everyArchiveThenTheManifestThenTheEnd() throws {
        let (cluster, space) = try PostgresCluster.startWithTablespace()
        defer { cluster.stop() }
        let oid = try cluster.sql("SELECT oid FROM pg_tablespace WHERE spcname = 'ts1'")
        let session = try BaseBackupSession(cluster.superuser())
        #expect(session.server.versionNumber >= 150000)
        #expect(session.server.walSegmentSize == 16 * 1024 * 1024)
        #expect(session.server.systemIdentifier == (try cluster.sql("SELECT system_identifier FROM pg_control_system()")))
        #expect(session.server.timeline == 1)

        try session.begin(label: "drctl test", fastCheckpoint: true)
        #expect(session.tablespaces == [BaseBackupSession.Tablespace(oid: UInt32(oid)!, location: space.path)])
        #expect(session.archiveNames == ["\(oid).tar", "base.tar", "backup_manifest"])
        var archives: [String: [UInt8]] = [:]
        for name in session.archiveNames { archives[name] = try readAll(session.archive(named: name)) }
        let end = try session.end()

        let start = try #require(session.start)
        #expect(start.timeline == 1 && end.timeline == 1)
        func value(_ lsn: String) -> UInt64 {
            let parts = lsn.split(separator: "/")
            return UInt64(parts[0], radix: 16)! << 32 | UInt64(parts[1], radix: 16)!
        }
        #expect(value(end.lsn) > value(start.lsn))
        // Tar archives end with two zero blocks; base.tar holds the label and the tablespace map.
        let base = try #require(archives["base.tar"])
        #expect(base.count % 512 == 0 && base.count > 1_000_000)
        let baseText = String(decoding: base, as: UTF8.self)
        #expect(baseText.contains("backup_label") && baseText.contains("LABEL: drctl test"))
        #expect(baseText.contains("tablespace_map") && baseText.contains("\(oid) \(space.path)"))
        #expect(try #require(archives["\(oid).tar"]).count % 512 == 0)
        let manifest = String(decoding: try #require(archives["backup_manifest"]), as: UTF8.self)
        #expect(manifest.hasPrefix("{ \"PostgreSQL-Backup-Manifest-Version\": 1,"))
        #expect(manifest.contains("\"Checksum-Algorithm\": \"SHA256\""))
        #expect(manifest.contains("\"Start-LSN\": \"\(start.lsn)\"") && manifest.contains("\"End-LSN\": \"\(end.lsn)\""))
    }

    @Test func anArchiveOutOfOrderIsRefused() throws {
        let (cluster, _) = try PostgresCluster.startWithTablespace()
        defer { cluster.stop() }
        let session = try BaseBackupSession(cluster.superuser())
        try session.begin(label: "drctl test", fastCheckpoint: true)
        let error = #expect(throws: PostgresError.self) { try readAll(session.archive(named: "base.tar")) }
        #expect(error?.description.contains("sent the archive") == true && error?.description.contains("expected base.tar") == true)
    }

    @Test func aRoleWithoutReplicationIsRefusedByTheServer() throws {
        try PostgresCluster.with { cluster in
            try cluster.exec(["CREATE ROLE plain LOGIN"])
            var endpoint = cluster.superuser()
            endpoint.user = "plain"
            // pg_hba has no replication line at all here: the server refuses the connection.
            #expect(throws: PostgresError.self) { try BaseBackupSession(endpoint) }
        }
    }
}
