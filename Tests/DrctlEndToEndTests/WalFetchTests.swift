import DrctlStorage
import DrctlTestSupport
import Foundation
import Glibc
import Testing

/// `drctl wal-fetch` as a real PostgreSQL 15's restore_command, and failing closed: exit 1 only
/// when every region says the file is absent, 126 (PostgreSQL stops recovery) for anything else.
@Suite(.serialized) struct WalFetchTests {
    static let credentials = ["AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "moto-does-not-check"]

    @Test func recoveryFromABaseBackupReplaysTheArchivedWalThroughWalFetch() throws {
        let wal = try WalArchiving()
        try wal.switchSegment(rows: 1000)
        let copy = try RecoveringCopy(of: wal, policy: wal.sandbox.policyPath)
        // Rows after the base backup, in several segments, only in the archive.
        for _ in 0..<3 { try wal.switchSegment(rows: 2000) }
        let expected = try wal.cluster.sql("SELECT count(*) FROM t")
        #expect(expected == "7000")
        #expect(try wal.archiverCounts().failed == 0)

        // The first thing recovery asks for: the next timeline's history, which does not exist.
        let history = try Command.run(["/bin/sh", "-c", "cd '\(copy.root)/data' && exec runuser -u postgres -- \(Drctl.binary) wal-fetch "
            + "--policy \(wal.sandbox.policyPath) --target main --spool off 00000002.history pg_wal/RECOVERYHISTORY"])
        #expect(history.status == 1, "\(history)")
        let port = try copy.start()
        defer { copy.stop() }
        #expect(try eventually(within: 60) { (try? copy.sql("SELECT pg_is_in_recovery()", port: port)) == "f" })
        #expect(try copy.sql("SELECT count(*) FROM t", port: port) == expected)
        #expect(copy.log.contains("restored log file"), "\(copy.log)")
        // The read-ahead worker (WalSpoolTests) leaves nothing running.
        #expect(try eventually(within: 60) { !WalSpoolTests.workerRuns("\(wal.sandbox.root)/spool") })
    }

    /// Recovery replays what the archive's directory region holds; at its end, where the next file
    /// may be in the S3 region that does not answer, wal-fetch exits 126 and PostgreSQL stops
    /// recovery (FATAL) instead of promoting at a point short of the archive's end. Once the region
    /// answers (that it holds nothing more), the same copy recovers to the end and promotes.
    @Test func recoveryStopsRatherThanEndEarlyWhileARegionIsDown() throws {
        let wal = try WalArchiving()
        try wal.switchSegment(rows: 1000)
        let restorePolicy = "\(wal.sandbox.root)/restore.yaml"
        let copy = try RecoveringCopy(of: wal, policy: restorePolicy)
        for _ in 0..<2 { try wal.switchSegment(rows: 2000) }
        let expected = try wal.cluster.sql("SELECT count(*) FROM t")
        let moto = try MotoProcess()
        try moto.createBucket("backups")
        let down = try RedisServer.freePort()
        let keys = (id: "\(wal.sandbox.root)/s3-key-id", secret: "\(wal.sandbox.root)/s3-secret")
        try Self.credentials["AWS_ACCESS_KEY_ID"]!.write(toFile: keys.id, atomically: true, encoding: .utf8)
        try Self.credentials["AWS_SECRET_ACCESS_KEY"]!.write(toFile: keys.secret, atomically: true, encoding: .utf8)
        func writeRestorePolicy(s3Port: Int) throws {
            try TwoRegions.policy(wal, endpoint: s3Port, minRegions: 1, credentialFiles: keys)
                .write(toFile: restorePolicy, atomically: true, encoding: .utf8)
            try WalArchiving.giveToPostgres(wal.sandbox.root)
        }
        try writeRestorePolicy(s3Port: down)

        _ = try? copy.start()
        defer { copy.stop() }
        #expect(try eventually(within: 120) { !copy.isRunning })
        #expect(copy.log.contains("FATAL:  could not restore file"), "\(copy.log)")
        #expect(!copy.log.contains("selected new timeline ID"), "\(copy.log)")

        try writeRestorePolicy(s3Port: moto.port)
        let again = try copy.start()
        #expect(try eventually(within: 60) { (try? copy.sql("SELECT pg_is_in_recovery()", port: again)) == "f" })
        #expect(try copy.sql("SELECT count(*) FROM t", port: again) == expected)
    }

    /// A copy of `wal`'s cluster taken by pg_basebackup without WAL (`-X none`: what it needs is in
    /// the archive only), set to recover through `drctl wal-fetch` with the policy at `policy`.
    struct RecoveringCopy {
        let root: String

        init(of wal: WalArchiving, policy: String) throws {
            root = "\(wal.sandbox.root)/restored"
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            try WalArchiving.giveToPostgres(root)
            try Command.shell("runuser -u postgres -- \(PostgresCluster.binDir)/pg_basebackup -h '\(wal.cluster.dir.path)' "
                + "-p \(wal.cluster.port) -U postgres -D '\(root)/data' -X none -c fast")
            let fetch = "\(Drctl.binary) wal-fetch --policy \(policy) --target main --spool \(wal.sandbox.root)/spool \"%f\" \"%p\""
            try """

                restore_command = '\(fetch)'
                archive_mode = off
                unix_socket_directories = '\(root)'

                """.appendLine(to: "\(root)/data/postgresql.auto.conf")
            FileManager.default.createFile(atPath: "\(root)/data/recovery.signal", contents: Data())
            try WalArchiving.giveToPostgres(root)
        }

        /// Starts the server as pg-cluster.sh starts clusters (ChildProcess: the server it leaves
        /// running holds no pipe of ours); returns its port.
        func start() throws -> String {
            let started = try PostgresCluster.run(PostgresCluster.script, ["start", root])
            return String(try #require(started.split(separator: "\n").first { $0.hasPrefix("PGPORT=") }?.dropFirst("PGPORT=".count)))
        }

        func stop() { _ = try? PostgresCluster.run(PostgresCluster.script, ["stop", root]) }

        var isRunning: Bool {
            (try? Command.run(["runuser", "-u", "postgres", "--", "\(PostgresCluster.binDir)/pg_ctl", "status", "-D", "\(root)/data"]))?
                .status == 0
        }

        func sql(_ statement: String, port: String) throws -> String {
            try PostgresCluster.run("\(PostgresCluster.binDir)/psql", ["-X", "-At", "-h", root, "-p", port, "-U", "postgres", "-c", statement])
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }

        var log: String { (try? String(contentsOfFile: "\(root)/log", encoding: .utf8)) ?? "" }
    }

    /// A segment zstd cannot shrink is stored as more than one S3 read window (8 MiB): its body
    /// takes a second ranged GET, which must not be cancelled once the header has been read.
    @Test func aSegmentLargerThanOneS3ReadWindowIsFetchedWhole() throws {
        let wal = try WalArchiving(settings: ["archive_mode = off"])
        let moto = try MotoProcess()
        try moto.createBucket("backups")
        try wal.writeS3Policy(endpoint: moto.port)
        let (name, copy) = try wal.incompressibleSegment()
        let pushed = try Drctl.run(["wal-push", "--policy", wal.sandbox.policyPath, "--target", "main",
                                    "--pgdata", wal.cluster.dataDirectory.path, copy], environment: Self.credentials)
        try #require(pushed.status == 0, "\(pushed)")
        let out = "\(wal.sandbox.root)/fetched"
        let fetched = try Drctl.run(["wal-fetch", "--policy", wal.sandbox.policyPath, "--target", "main",
                                     "--system-identifier", try wal.systemIdentifier, "--spool", "off", name, out],
                                    environment: Self.credentials)
        #expect(fetched.status == 0, "\(fetched)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data(contentsOf: URL(fileURLWithPath: copy)))
    }

    /// A WAL object's body is one zstd frame recording the file's size (docs/FORMAT.md). Two
    /// frames, each the real compressor's, sealed with the real data key under a header signed
    /// again, decompress to exactly the file its header describes, and are still refused as
    /// damaged: exit 126 (PostgreSQL stops recovery) and nothing at the destination. The same
    /// rewrite as one frame is served, so it is the second frame that is refused.
    @Test func aBodyOfTwoZstdFramesIsRefusedThoughItHoldsTheFile() throws {
        let wal = try WalArchiving(settings: ["archive_mode = off"])
        try wal.cluster.exec(["CREATE TABLE t AS SELECT generate_series(1, 1000) AS x"])
        let name = try wal.cluster.sql("SELECT pg_walfile_name(pg_current_wal_lsn())")
        try wal.cluster.sql("SELECT pg_switch_wal()")
        let copy = try wal.copyOfSegment(name)
        let pushed = try wal.sandbox.drctl(["wal-push", "--target", "main", "--pgdata", wal.cluster.dataDirectory.path, copy])
        try #require(pushed.status == 0, "\(pushed)")
        let original = Array(try Data(contentsOf: URL(fileURLWithPath: copy)))
        let out = "\(wal.sandbox.root)/fetched"
        func fetch() throws -> Drctl.Result {
            try wal.sandbox.drctl(["wal-fetch", "--target", "main", "--system-identifier", try wal.systemIdentifier,
                                   "--spool", "off", name, out])
        }
        func rewrite(_ frames: [ArraySlice<UInt8>]) throws {
            try WalObjectRewriter.rewrite(try wal.key(of: name), region: wal.sandbox.repository, keyFile: wal.sandbox.keyPath,
                                          frames: frames.map(Array.init))
        }

        try rewrite([original[...]])
        let whole = try fetch()
        #expect(whole.status == 0, "\(whole)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data(original))
        try FileManager.default.removeItem(atPath: out)

        let half = original.count / 2
        try rewrite([original[..<half], original[half...]])
        let refused = try fetch()
        #expect(refused.status == 126, "\(refused)")
        #expect(refused.stderr.contains("does not start with one zstd frame"), "\(refused)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// Two regions, a directory and moto S3 (through the fault proxy when `faults` are given),
    /// both holding two real segments pushed by hand.
    final class TwoRegions {
        let wal: WalArchiving
        let moto: MotoProcess
        let proxy: FaultProxy?
        let segments: [String]
        let system: String

        /// The S3 region comes first in the policy (the one wal-fetch asks first).
        let s3First: Bool

        /// - Parameter localOnly: the segments are pushed while the policy names the directory region alone.
        init(faults: [String] = [], every: Int = 1, localOnly: Bool = false, s3First: Bool = false) throws {
            self.s3First = s3First
            wal = try WalArchiving(settings: ["archive_mode = off"])
            moto = try MotoProcess()
            try moto.createBucket("backups")
            proxy = faults.isEmpty ? nil : try FaultProxy(upstream: moto.port, every: every, faults: faults)
            var names: [String] = []
            for _ in 0..<2 {
                try wal.cluster.exec(["CREATE TABLE IF NOT EXISTS t (x int)", "INSERT INTO t SELECT generate_series(1, 1000)"])
                names.append(try wal.cluster.sql("SELECT pg_walfile_name(pg_current_wal_lsn())"))
                try wal.cluster.sql("SELECT pg_switch_wal()")
            }
            segments = names
            system = try wal.systemIdentifier
            try writePolicy(endpoint: moto.port, localOnly: localOnly)
            for name in segments {
                let copy = try wal.copyOfSegment(name)
                let pushed = try Drctl.run(["wal-push", "--policy", wal.sandbox.policyPath, "--target", "main",
                                            "--pgdata", wal.cluster.dataDirectory.path, copy], environment: WalFetchTests.credentials)
                guard pushed.status == 0 else { throw Command.ShellFailed(script: "wal-push", result: pushed) }
            }
            if let proxy { try writePolicy(endpoint: proxy.port) } else if localOnly { try writePolicy(endpoint: moto.port) }
        }

        func writePolicy(endpoint port: Int, localOnly: Bool = false, minRegions: Int? = nil) throws {
            try Self.policy(wal, endpoint: port, localOnly: localOnly, minRegions: minRegions ?? (localOnly ? 1 : 2), s3First: s3First)
                .write(toFile: wal.sandbox.policyPath, atomically: true, encoding: .utf8)
        }

        /// A policy naming the sandbox's directory region and (unless `localOnly`) an S3 region at
        /// `port`; `credentialFiles` gives that region its keys from files (the server's
        /// restore_command has none in its environment).
        static func policy(_ wal: WalArchiving, endpoint port: Int, localOnly: Bool = false, minRegions: Int,
                           credentialFiles: (id: String, secret: String)? = nil, s3First: Bool = false) -> String {
            let keys = credentialFiles.map { """

                      access_key_id: {file: \($0.id)}
                      secret_access_key: {file: \($0.secret)}
                """ } ?? ""
            let s3 = localOnly ? "" : """

                    - name: s3
                      url: s3://backups/wal
                      endpoint: http://127.0.0.1:\(port)
                      path_style: true\(keys)
                """
            let local = """

                    - name: local
                      url: \(wal.sandbox.repository)
                """
            let regions = s3First ? s3 + local : local + s3
            return """
                version: 1
                repository:
                  regions:\(regions)
                  min_regions: \(minRegions)
                  encryption:
                    key_file: \(wal.sandbox.keyPath)
                targets:
                \(WalArchiving.physicalTarget)

                """
        }

        func fetch(_ name: String, to path: String) throws -> Drctl.Result {
            try Drctl.run(["wal-fetch", "--policy", wal.sandbox.policyPath, "--target", "main", "--system-identifier", system,
                           "--spool", "off", name, path], environment: WalFetchTests.credentials)
        }

        func original(_ name: String) throws -> Data {
            try Data(contentsOf: wal.cluster.dataDirectory.appendingPathComponent("pg_wal/\(name)"))
        }
    }

    @Test func absentFromEveryRegionIsOneAndARegionThatIsDownIsOneHundredTwentySix() throws {
        let regions = try TwoRegions()
        let out = "\(regions.wal.sandbox.root)/fetched"
        let fetched = try regions.fetch(regions.segments[0], to: out)
        #expect(fetched.status == 0, "\(fetched)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == regions.original(regions.segments[0]))
        let absentName = "00000001000000000000FFFF"
        let absent = try regions.fetch(absentName, to: out + ".absent")
        #expect(absent.status == 1, "\(absent)")
        #expect(!FileManager.default.fileExists(atPath: out + ".absent"))

        // The S3 region stops answering: absence is no longer confirmed.
        regions.moto.child.terminate(grace: 1)
        regions.moto.child.wait()
        let down = try regions.fetch(absentName, to: out + ".down")
        #expect(down.status == 126, "\(down)")
        #expect(down.stderr.contains("region 's3'"), "\(down)")
        // A file the directory region holds is still served.
        let served = try regions.fetch(regions.segments[1], to: out + ".1")
        #expect(served.status == 0, "\(served)")
        // A command line wal-fetch cannot parse stops recovery too.
        let unparsable = try Drctl.run(["wal-fetch", "--no-such-option", "x", "y"])
        #expect(unparsable.status == 126, "\(unparsable)")
    }

    @Test func aCopyDamagedInTheFirstRegionIsServedFromTheSecond() throws {
        let regions = try TwoRegions()
        let name = regions.segments[0]
        try regions.wal.damageStoredCopy(of: name)
        let out = "\(regions.wal.sandbox.root)/fetched"
        let fetched = try regions.fetch(name, to: out)
        #expect(fetched.status == 0, "\(fetched)")
        #expect(fetched.stderr.contains("served from another region") && fetched.stderr.contains("local"), "\(fetched)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == regions.original(name))

        // Damaged in every region: not "absent", and recovery stops.
        try FileManager.default.removeItem(atPath: out)
        regions.moto.child.terminate(grace: 1)
        regions.moto.child.wait()
        let nowhere = try regions.fetch(name, to: out)
        #expect(nowhere.status == 126, "\(nowhere)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// A copy that fails its checks late in its body (its last sealed chunk), after most of the
    /// file was written out, leaves nothing at the destination: not when the next region serves
    /// it (the file is then the original, byte for byte), not when every region's copy is
    /// damaged (exit 126, so that PostgreSQL stops recovery), and no partial file beside it.
    @Test func aCopyDamagedLateInItsBodyLeavesNothingAtTheDestination() throws {
        let regions = try TwoRegions(s3First: true)
        let name = regions.segments[0]
        let bucket = try regions.moto.store(bucket: "backups")
        let key = try #require(try bucket.list(prefix: "").map(\.key).first { $0.hasSuffix("/\(name)") })
        var stored = try bucket.get(key)
        stored[stored.count - 100] ^= 0x01
        try bucket.delete(key)   // objects are write-once: replaced as an operator would not
        try bucket.put(key, bytes: stored)
        let directory = "\(regions.wal.sandbox.root)/pg_wal"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let out = "\(directory)/RECOVERYXLOG"

        let served = try regions.fetch(name, to: out)
        #expect(served.status == 0, "\(served)")
        #expect(served.stderr.contains("served from another region") && served.stderr.contains("region=local"), "\(served)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == regions.original(name))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["RECOVERYXLOG"])

        try FileManager.default.removeItem(atPath: out)
        try regions.wal.damageStoredCopy(of: name)
        let nowhere = try regions.fetch(name, to: out)
        #expect(nowhere.status == 126, "\(nowhere)")
        #expect(nowhere.stderr.contains("region 's3'") && nowhere.stderr.contains("region 'local'"), "\(nowhere)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    @Test func pushGoesOnAtQuorumWithARegionDownAndFailsBelowIt() throws {
        let regions = try TwoRegions()
        regions.moto.child.terminate(grace: 1)
        regions.moto.child.wait()
        try regions.wal.cluster.exec(["INSERT INTO t SELECT generate_series(1, 1000)"])
        let name = try regions.wal.cluster.sql("SELECT pg_walfile_name(pg_current_wal_lsn())")
        try regions.wal.cluster.sql("SELECT pg_switch_wal()")
        let copy = try regions.wal.copyOfSegment(name)
        func push() throws -> Drctl.Result {
            try Drctl.run(["wal-push", "--policy", regions.wal.sandbox.policyPath, "--target", "main",
                           "--pgdata", regions.wal.cluster.dataDirectory.path, copy], environment: WalFetchTests.credentials)
        }
        let below = try push()
        #expect(below.status == 1 && below.stderr.contains("min_regions is 2"), "\(below)")
        try regions.writePolicy(endpoint: regions.moto.port, minRegions: 1)
        let atQuorum = try push()
        #expect(atQuorum.status == 0 && atQuorum.stderr.contains("region did not take the WAL file"), "\(atQuorum)")
        #expect(FileManager.default.fileExists(atPath: "\(regions.wal.sandbox.repository)/\(try regions.wal.key(of: name))"))
    }

    @Test func syncGivesARegionTheWalItMissedAndThatRegionAloneServesIt() throws {
        let regions = try TwoRegions(localOnly: true)
        #expect(try regions.moto.store(bucket: "backups").list(prefix: "wal/").isEmpty)
        let sync = try Drctl.run(["sync", "--policy", regions.wal.sandbox.policyPath], environment: WalFetchTests.credentials)
        #expect(sync.status == 0, "\(sync)")
        #expect(sync.stdout.contains("main wal s3: copied 2 objects"), "\(sync)")
        try FileManager.default.removeItem(atPath: "\(regions.wal.sandbox.repository)/wal")
        for name in regions.segments {
            let out = "\(regions.wal.sandbox.root)/\(name)"
            let fetched = try regions.fetch(name, to: out)
            #expect(fetched.status == 0 && fetched.stderr.contains("region=s3"), "\(fetched)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == regions.original(name))
        }
        let again = try Drctl.run(["sync", "--policy", regions.wal.sandbox.policyPath], environment: WalFetchTests.credentials)
        #expect(again.status == 0 && again.stdout.contains("main wal local: copied 2 objects"), "\(again)")
    }

    /// One retry layer: the S3 layer retries a region's transient faults within the region's
    /// read deadline, and wal-fetch does not retry that again. Region 1 (S3) resets every
    /// request: it is given up after at most one retry budget (`HTTPRetryPolicy.s3`, 12
    /// attempts) and not asked again in the run, and the file comes from region 2. (wal-fetch
    /// used to retry each region three times on top of the S3 layer's 12 attempts: 36 requests
    /// for the segment and minutes before the next region was asked.)
    @Test func aRegionThatKeepsFailingIsGivenUpAfterOneRetryBudgetAndTheNextServes() throws {
        let regions = try TwoRegions(faults: ["reset"], every: 1, s3First: true)
        let name = regions.segments[0]
        let out = "\(regions.wal.sandbox.root)/fetched"
        let fetched = try regions.fetch(name, to: out)
        #expect(fetched.status == 0, "\(fetched)")
        #expect(fetched.stderr.contains("served from another region") && fetched.stderr.contains("region=local"), "\(fetched)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == regions.original(name))
        let requests = try regions.proxy!.requests()
        let asked = requests.filter { $0.contains(name) }
        #expect(asked.count <= 12, "\(asked.count) requests for \(name): \(asked)")
        #expect(requests.count <= 2 * 12, "\(requests)")
    }

    /// A lone region has no other to fail over to: one that resets every request gets the S3
    /// layer's whole retry budget (`HTTPRetryPolicy.s3`) before wal-fetch gives up (126), even
    /// with a `read_deadline` of 1 s. Beside a second region, the same deadline cuts it short:
    /// fewer attempts, and the other region serves the file.
    @Test func aLoneRegionThatKeepsFailingGetsTheWholeRetryBudget() throws {
        let regions = try TwoRegions(faults: ["reset"], every: 1, s3First: true)
        let proxy = try #require(regions.proxy)
        let policy = regions.wal.sandbox.policyPath
        func withReadDeadline() throws {
            let lines = try String(contentsOfFile: policy, encoding: .utf8).components(separatedBy: "\n").flatMap { line in
                line.hasSuffix("path_style: true") ? [line, line.replacingOccurrences(of: "path_style: true", with: "read_deadline: 1s")] : [line]
            }
            try lines.joined(separator: "\n").write(toFile: policy, atomically: true, encoding: .utf8)
        }
        try regions.wal.writeS3Policy(endpoint: proxy.port)
        try withReadDeadline()
        let name = regions.segments[0]
        let out = "\(regions.wal.sandbox.root)/fetched"
        let alone = try regions.fetch(name, to: out)
        // The region's own error, not a repository taken for version 1 because nothing was read.
        #expect(alone.status == 126 && alone.stderr.contains("s3") && !alone.stderr.contains("version 1"), "\(alone)")
        #expect(!FileManager.default.fileExists(atPath: out))
        let budget = HTTPRetryPolicy.s3.maxAttempts
        let asked = try proxy.requests()
        #expect(asked.count == budget, "\(asked)")

        try regions.writePolicy(endpoint: proxy.port)
        try withReadDeadline()
        let beside = try regions.fetch(name, to: out)
        #expect(beside.status == 0 && beside.stderr.contains("region=local"), "\(beside)")
        let cut = try proxy.requests().count - asked.count
        #expect(cut > 0 && cut < budget, "\(cut) requests")
    }

    @Test func transientFaultsAreRetried() throws {
        let regions = try TwoRegions(faults: ["500", "reset", "503"], every: 2)
        // Only the S3 region, through the proxy.
        try FileManager.default.removeItem(atPath: "\(regions.wal.sandbox.repository)/wal")
        for name in regions.segments {
            let out = "\(regions.wal.sandbox.root)/\(name)"
            let fetched = try regions.fetch(name, to: out)
            #expect(fetched.status == 0, "\(fetched)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == regions.original(name))
        }
        #expect(try regions.proxy!.stats().faults >= 2)
    }
}

extension String {
    /// Appends this text to the file at `path`.
    func appendLine(to path: String) throws {
        let handle = try #require(FileHandle(forWritingAtPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(utf8))
    }
}
