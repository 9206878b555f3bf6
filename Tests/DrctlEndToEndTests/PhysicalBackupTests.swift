import Foundation
import Glibc
import Testing
import DrctlTestSupport

/// `kind: postgres`, `mode: physical` end to end: base backups over the replication protocol,
/// committed only with their WAL in the archive.
@Suite struct PhysicalBackupTests {
    /// A physical target on the cluster's socket (replication connections trusted there).
    static func target(_ pg: PostgresCluster, name: String = "db", walWait: String = "60s") -> String {
        """
          - name: \(name)
            kind: postgres
            mode: physical
            connection:
              host: \(pg.dir.path)
              port: \(pg.port)
              user: postgres
              checkpoint: fast
              wal_wait_timeout: \(walWait)

        """
    }

    @Test func aBaseBackupWhoseWALIsNotArchivedIsNotCommitted() throws {
        let sandbox = try Sandbox()
        // Archiving off: the backup's WAL never reaches drctl's archive.
        let pg = try PostgresCluster.start(allowReplication: true)
        defer { pg.stop() }
        try sandbox.writePolicy(targets: [], rawTargets: Self.target(pg, walWait: "2s"))

        let backup = try sandbox.drctl(["backup"])
        #expect(backup.status == 1, "\(backup)")
        #expect(backup.stderr.contains("needs WAL segment 0000000100000000000000"), "\(backup)")
        #expect(backup.stderr.contains("drctl wal-push --target db %p") && backup.stderr.contains("not committed"), "\(backup)")
        // Nothing is listed; the streamed archives were removed; the failure is on record.
        #expect(sandbox.files(under: "\(sandbox.repository)/manifests").isEmpty)
        #expect(sandbox.files(under: "\(sandbox.repository)/data").isEmpty, "\(sandbox.files(under: "\(sandbox.repository)/data"))")
        #expect(sandbox.files(under: "\(sandbox.repository)/records/db/failures").count == 1)
        let list = try sandbox.drctl(["list", "--target", "db"])
        #expect(list.status == 0 && !list.stdout.contains("postgres-physical"), "\(list)")
    }
}
