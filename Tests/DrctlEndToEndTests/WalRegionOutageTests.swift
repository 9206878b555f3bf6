import DrctlSources
import DrctlTestSupport
import Foundation
import Testing

/// A real PostgreSQL 15 archiving through `drctl wal-push` into two S3 regions (one moto, two
/// prefixes) while the second is down: a relay in front of it is stopped (connections refused)
/// and started again on its port, so the region comes back with what it held (stopping moto
/// would empty it). At `min_regions: 1` archiving goes on and `drctl sync` completes the region
/// afterwards; at `min_regions: 2` PostgreSQL keeps the WAL until the region is back. Either
/// way a restore from the second region alone reaches the original's last commit.
@Suite(.serialized) struct WalRegionOutageTests {
    /// The cluster, moto, and the relay that is region `r2`'s endpoint.
    final class Outage {
        let wal: WalArchiving
        let moto: MotoProcess
        /// Region `r1`'s endpoint, never down: its log shows what a sync read from it.
        let firstRelay: FaultProxy
        /// Region `r2`'s endpoint, held by `relay` while the region is up.
        let port: Int
        private var relay: FaultProxy?
        /// A policy naming `r2` alone (the same key, the same target).
        let secondOnlyPolicy: String

        init(minRegions: Int) throws {
            wal = try WalArchiving()
            moto = try MotoProcess()
            try moto.createBucket("backups")
            firstRelay = try FaultProxy(relaying: moto.port)
            let relay = try FaultProxy(relaying: moto.port)
            (self.relay, port) = (relay, relay.port)
            secondOnlyPolicy = "\(wal.sandbox.root)/r2-only.yaml"
            let keys = (id: "\(wal.sandbox.root)/s3-key-id", secret: "\(wal.sandbox.root)/s3-secret")
            try "AKIAIOSFODNN7EXAMPLE".write(toFile: keys.id, atomically: true, encoding: .utf8)
            try "moto-does-not-check".write(toFile: keys.secret, atomically: true, encoding: .utf8)
            func region(_ name: String, port: Int) -> String {
                """
                    - name: \(name)
                      url: s3://backups/\(name)
                      endpoint: http://127.0.0.1:\(port)
                      path_style: true
                      access_key_id: {file: \(keys.id)}
                      secret_access_key: {file: \(keys.secret)}
                """
            }
            func policy(_ regions: [String], minRegions: Int) -> String {
                """
                version: 1
                repository:
                  regions:
                \(regions.joined(separator: "\n"))
                  min_regions: \(minRegions)
                  encryption:
                    key_file: \(wal.sandbox.keyPath)
                targets:
                \(PhysicalBackupTests.target(wal.cluster, name: "main"))
                """
            }
            // The archive_command's policy: both regions.
            try policy([region("r1", port: firstRelay.port), region("r2", port: port)], minRegions: minRegions)
                .write(toFile: wal.sandbox.policyPath, atomically: true, encoding: .utf8)
            try policy([region("r2", port: port)], minRegions: 1).write(toFile: secondOnlyPolicy, atomically: true, encoding: .utf8)
            try WalArchiving.giveToPostgres(wal.sandbox.root)
        }

        /// Region `r2` refuses connections (moto, behind it, keeps what it holds).
        func takeDown() { relay = nil }

        /// Region `r2` answers again, with everything it held.
        func bringBack() throws { relay = try FaultProxy(relaying: moto.port, on: port) }

        /// The WAL keys region `name` holds.
        func walKeys(in name: String) throws -> Set<String> {
            Set(try moto.store(bucket: "backups", prefix: "\(name)/").list(prefix: "wal/").map(\.key))
        }

        /// The `.ready` files in pg_wal/archive_status: WAL the archiver has not yet stored.
        func readyFiles() throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: wal.cluster.dataDirectory.appendingPathComponent("pg_wal/archive_status").path)
                .filter { $0.hasSuffix(".ready") }.sorted()
        }

        /// What the original holds: pgbench's tables' sums and the test's rows (one line).
        func contents(psql: [String]) throws -> String {
            try PostgresCluster.run("\(PostgresCluster.binDir)/psql", psql + ["-c", Self.contentsQuery])
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }

        static let contentsQuery = """
            SELECT (SELECT count(*) || ':' || sum(abalance) FROM pgbench_accounts) || ' '
                || (SELECT count(*) || ':' || coalesce(sum(delta), 0) FROM pgbench_history) || ' '
                || (SELECT count(*) FROM t)
            """

        var originalContents: String {
            get throws { try contents(psql: ["-X", "-At", "-h", wal.cluster.dir.path, "-p", "\(wal.cluster.port)", "-U", "postgres"]) }
        }

        /// pgbench against the original (`-i -s 1` to initialise, or a run of a few seconds).
        func pgbench(_ arguments: [String]) throws {
            _ = try PostgresCluster.run("\(PostgresCluster.binDir)/pgbench", arguments + [
                "-h", wal.cluster.dir.path, "-p", "\(wal.cluster.port)", "-U", "postgres", "postgres",
            ])
        }

        /// pgbench's tables, a base backup of them in both regions (as the server's user, as the
        /// archiver runs); returns the archiver's counts after it (no failure yet).
        func baseBackup() throws -> (archived: Int, failed: Int) {
            try pgbench(["-i", "-s", "1", "-q"])
            try wal.switchSegment(rows: 100)
            let backup = try wal.drctlAsPostgres(["backup"])
            try #require(backup.status == 0, "\(backup)")
            let counts = try wal.archiverCounts()
            try #require(counts.failed == 0)
            return counts
        }

        /// Restores `latest` from region `r2` alone, starts it, and returns what it holds.
        func restoreFromSecondRegion(into name: String) throws -> (String, Drctl.Result) {
            let data = "\(wal.sandbox.root)/\(name)"
            let port = try LoopbackPort.free()
            let restore = try Drctl.run(["restore", "--target", "main", "--to", data, "--point-in-time", "latest", "--timeline", "1",
                                         "--start", "--port", "\(port)", "--policy", secondOnlyPolicy])
            guard restore.status == 0 else { return ("", restore) }
            defer {
                _ = try? Command.run(["runuser", "-u", "postgres", "--", "\(PostgresCluster.binDir)/pg_ctl", "-D", data, "-m", "immediate", "stop"])
            }
            return (try contents(psql: ["-X", "-At", "-h", data, "-p", "\(port)", "-U", "postgres"]), restore)
        }
    }

    @Test func atQuorumArchivingGoesOnWhileARegionIsDownAndSyncCompletesIt() throws {
        let outage = try Outage(minRegions: 1)
        let wal = outage.wal
        let before = try outage.baseBackup()
        let heldBefore = try outage.walKeys(in: "r2")

        outage.takeDown()
        try outage.pgbench(["-T", "3", "-c", "2", "-j", "2", "-n"])
        let segments = try (0..<3).map { _ in try wal.switchSegment(rows: 500) }
        let during = try wal.archiverCounts()
        #expect(during.failed == 0, "\(during)")
        #expect(during.archived >= before.archived + 3, "\(before) → \(during)")
        #expect(try outage.readyFiles().isEmpty)
        #expect(try wal.cluster.sql("SELECT last_archived_wal FROM pg_stat_archiver") == segments.last)
        // Stored in r1 only: r2 was really down.
        let first = try outage.walKeys(in: "r1")
        let missed = first.subtracting(try outage.walKeys(in: "r2"))
        for segment in segments { #expect(try first.contains(wal.key(of: segment))) }
        #expect(try outage.walKeys(in: "r2") == heldBefore)
        #expect(missed.count >= 3, "\(missed)")
        let expected = try outage.originalContents

        try outage.bringBack()
        let requestsBefore = try outage.firstRelay.requests().count
        let sync = try wal.drctlAsPostgres(["sync"])
        #expect(sync.status == 0, "\(sync)")
        #expect(sync.stdout.contains("main wal r2: copied \(missed.count) objects"), "\(sync)")
        #expect(sync.stdout.contains("from r1"), "\(sync)")
        // Each object the region missed was read once from r1 (its header checked on the way).
        let reads = try outage.firstRelay.requests().dropFirst(requestsBefore).filter { $0.hasPrefix("GET /backups/r1/wal/") }
        #expect(reads.sorted() == missed.map { "GET /backups/r1/\($0)" }.sorted(), "\(reads)")
        #expect(try outage.walKeys(in: "r2") == first)
        let again = try wal.drctlAsPostgres(["sync"])
        #expect(again.status == 0 && !again.stdout.contains("copied"), "\(again)")

        let (restored, restore) = try outage.restoreFromSecondRegion(into: "restored")
        #expect(restored == expected, "\(restore)")
        #expect(restore.stdout.contains("promoted: last replayed commit"), "\(restore)")
    }

    /// `--point-in-time T` is checked against the newest WAL any region holds. A region whose
    /// archive cannot be listed (r2, refusing connections) may hold newer WAL than the others:
    /// the restore names it and its error (a warning in the log, a line in its output), and a
    /// refusal as past the newest WAL says the newest may be in that region.
    @Test func aRegionWhoseArchiveCannotBeListedIsNamedWhenTheTimeIsChecked() throws {
        let outage = try Outage(minRegions: 1)
        let wal = outage.wal
        _ = try outage.baseBackup()
        let precise = ISO8601DateFormatter()
        precise.formatOptions = [.withInternetDateTime, .withFractionalSeconds]   // not before the backup's end
        let within = precise.string(from: Date())
        try wal.switchSegment(rows: 100)   // pushed after `within`: the archive reaches past it
        outage.takeDown()

        let data = "\(wal.sandbox.root)/restored"
        let restore = try Drctl.run(["restore", "--target", "main", "--to", data, "--point-in-time", within,
                                     "--policy", wal.sandbox.policyPath])
        #expect(restore.status == 0, "\(restore)")
        #expect(restore.stdout.contains("the WAL archive of region r2 could not be listed"), "\(restore)")
        #expect(restore.stderr.contains("WARNING") && restore.stderr.contains("region=r2"), "\(restore)")

        let future = ISO8601DateFormatter().string(from: Date().addingTimeInterval(3600))
        let late = try Drctl.run(["restore", "--target", "main", "--to", "\(wal.sandbox.root)/late", "--point-in-time", future,
                                  "--policy", wal.sandbox.policyPath])
        #expect(late.status == 2 && late.stderr.contains("past the newest WAL in the archive"), "\(late)")
        #expect(late.stderr.contains("region r2") && late.stderr.contains("could not be listed"), "\(late)")
        #expect(!FileManager.default.fileExists(atPath: "\(wal.sandbox.root)/late"))
    }

    @Test func belowQuorumPostgresKeepsTheWalUntilTheRegionIsBack() throws {
        let outage = try Outage(minRegions: 2)
        let wal = outage.wal
        let before = try outage.baseBackup()

        outage.takeDown()
        try outage.pgbench(["-T", "2", "-c", "2", "-j", "2", "-n"])
        let kept = try wal.switchSegment(rows: 500)
        let during = try wal.archiverCounts()
        #expect(during.failed > 0, "\(during)")
        #expect(try wal.cluster.sql("SELECT last_failed_wal FROM pg_stat_archiver") != "")
        #expect(try outage.readyFiles().contains("\(kept).ready"))
        #expect(FileManager.default.fileExists(atPath: wal.cluster.dataDirectory.appendingPathComponent("pg_wal/\(kept)").path))
        // wal-push itself: non-zero, naming the quorum and the region that is down.
        let push = try wal.drctlAsPostgres(["wal-push", "--target", "main", "--pgdata", wal.cluster.dataDirectory.path,
                                            try wal.copyOfSegment(kept)])
        #expect(push.status != 0 && push.stderr.contains("min_regions is 2") && push.stderr.contains("r2"), "\(push)")

        try outage.bringBack()
        // More writes: the next segment wakes the archiver, which stores the kept ones first.
        let last = try wal.switchSegment(rows: 500)
        let caughtUp = try eventually(within: 30) {
            try wal.cluster.sql("SELECT last_archived_wal FROM pg_stat_archiver") == last && (try outage.readyFiles().isEmpty)
        }
        #expect(caughtUp, "still waiting: \((try? outage.readyFiles()) ?? [])")
        #expect(try wal.archiverCounts().archived > during.archived)
        #expect(try outage.walKeys(in: "r2").contains(wal.key(of: kept)))
        let expected = try outage.originalContents

        let (restored, restore) = try outage.restoreFromSecondRegion(into: "restored")
        #expect(restored == expected, "\(restore)")
        #expect(restore.stdout.contains("promoted: last replayed commit"), "\(restore)")
    }
}
