import DrctlPipeline
import DrctlSources
import DrctlTestSupport
import Foundation
import Testing

/// PostgreSQL 15's BASE_BACKUP over a physical replication connection, against a real cluster.
@Suite struct BaseBackupSessionTests {
    /// A cluster that takes replication connections on its socket, with one tablespace.
    private func clusterWithTablespace() throws -> (PostgresCluster, URL) {
        let cluster = try PostgresCluster.start()
        let hba = cluster.dir.appendingPathComponent("data/pg_hba.conf")
        let handle = try FileHandle(forWritingTo: hba)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("local replication all trust\n".utf8))
        try handle.close()
        try cluster.exec(["SELECT pg_reload_conf()"])
        let space = cluster.dir.appendingPathComponent("ts1")
        try FileManager.default.createDirectory(at: space, withIntermediateDirectories: true)
        if getuid() == 0 { _ = try ChildProcess.run(["/bin/chown", "postgres:", space.path]) }
        try cluster.exec(["CREATE TABLESPACE ts1 LOCATION '\(space.path)'",
                          "CREATE TABLE t (id int) TABLESPACE ts1", "INSERT INTO t SELECT generate_series(1, 1000)"])
        return (cluster, space)
    }

    /// Reads one archive to its end in pieces smaller than the server's messages.
    private func readAll(_ source: ByteSource) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 10_000)
        while true {
            let count = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            if count == 0 { break }
            bytes += buffer[..<count]
        }
        try source.finish()
        return bytes
    }

    @Test func everyArchiveThenTheManifestThenTheEnd() throws {
        let (cluster, space) = try clusterWithTablespace()
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
        let (cluster, _) = try clusterWithTablespace()
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
