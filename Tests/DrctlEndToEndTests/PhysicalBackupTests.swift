import Foundation
import Glibc
import Testing
import DrctlSources
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

    @Test func aBaseBackupWhoseWALIsDamagedInTheArchiveNamesTheDamageNotAMissingSegment() throws {
        // The archiver's command pushes each segment, then appends a byte to the stored copy:
        // every copy of the backup's WAL is in the archive, and every one is refused on reading.
        let wal = try WalArchiving()
        let script = "\(wal.sandbox.root)/damaging-archive.sh"
        try """
            \(Drctl.binary) wal-push --policy \(wal.sandbox.policyPath) --target main "$1" || exit 1
            find \(wal.sandbox.repository)/wal -name "$(basename "$1")" -exec sh -c 'printf x >> "$1"' _ {} \\;

            """.write(toFile: script, atomically: true, encoding: .utf8)
        try wal.cluster.exec(["ALTER SYSTEM SET archive_command = '/bin/sh \(script) %p'", "SELECT pg_reload_conf()"])
        try wal.sandbox.writePolicy(targets: [], rawTargets: Self.target(wal.cluster, name: "main", walWait: "3s"))
        try WalArchiving.giveToPostgres(wal.sandbox.root)

        let backup = try wal.drctlAsPostgres(["backup"])
        #expect(backup.status == 1, "\(backup)")
        #expect(backup.stderr.contains("needs WAL segment 0000000100000000000000") && backup.stderr.contains("not committed"), "\(backup)")
        // The cause is named: the region's copy is there but damaged, not missing.
        #expect(backup.stderr.contains("local: ") && backup.stderr.contains("bytes long, but its header and body make"), "\(backup)")
        #expect(!backup.stderr.contains("no region holds it"), "\(backup)")
        #expect(wal.sandbox.files(under: "\(wal.sandbox.repository)/manifests").isEmpty)
    }

    @Test func aBaseBackupKilledMidStreamLeavesNothingListedAndTheNextOneSucceeds() throws {
        let wal = try PointInTimeRecoveryTests.archiving()
        // ~150 MB of table data: the stream lasts long enough to be cut.
        _ = try Command.run(["runuser", "-u", "postgres", "--", "\(PostgresCluster.binDir)/pgbench", "-i", "-s", "10", "-q",
                             "-h", wal.cluster.dir.path, "-p", "\(wal.cluster.port)", "postgres"])
        try wal.switchSegment()
        let running = try ChildProcess(argv: ["runuser", "-u", "postgres", "--", Drctl.binary, "backup", "--policy", wal.sandbox.policyPath],
                                       environment: .inherited(adding: [:]))
        let streaming = eventually(within: 60) {
            wal.sandbox.files(under: "\(wal.sandbox.repository)/data/main").contains { $0.contains("base.tar") }
        }
        #expect(streaming, "the base backup never started streaming")
        // runuser's child is drctl: kill both, as a crash or an OOM kill would.
        _ = try? Command.run(["pkill", "-KILL", "-P", "\(running.pid)"])
        kill(running.pid, SIGKILL)
        running.wait()

        let list = try wal.sandbox.drctl(["list", "--target", "main"])
        #expect(list.status == 0 && !list.stdout.contains("postgres-physical"), "\(list)")
        #expect(wal.sandbox.files(under: "\(wal.sandbox.repository)/manifests").isEmpty)
        // The server abandoned the killed backup: the next one runs and commits.
        let next = try wal.drctlAsPostgres(["backup"])
        #expect(next.status == 0, "\(next)")
        #expect(wal.sandbox.files(under: "\(wal.sandbox.repository)/manifests/main").count == 1)
    }

    @Test func aVersionOneRepositoryIsRefusedNamingTheUpgrade() throws {
        let sandbox = try Sandbox()
        let pg = try PostgresCluster.start(allowReplication: true)
        defer { pg.stop() }
        try sandbox.writePolicy(targets: [], rawTargets: Self.target(pg, walWait: "2s"))
        try FileManager.default.createDirectory(atPath: sandbox.repository, withIntermediateDirectories: true)
        try """
            {"created_at" : "2026-11-22T05:10:08.412Z", "created_by" : "drctl 0.1.0", "format" : "drctl-repository", "version" : 1}

            """.write(toFile: "\(sandbox.repository)/repository.json", atomically: true, encoding: .utf8)
        let refused = try sandbox.drctl(["backup"])
        #expect(refused.status == 2, "\(refused)")
        #expect(refused.stderr.contains("drctl repository upgrade"), "\(refused)")
        #expect(sandbox.files(under: "\(sandbox.repository)/data").isEmpty && sandbox.files(under: "\(sandbox.repository)/manifests").isEmpty)
    }
}
