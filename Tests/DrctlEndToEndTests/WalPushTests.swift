import DrctlCrypto
import DrctlStorage
import DrctlTestSupport
import Foundation
import Testing

/// `drctl wal-push` as a real PostgreSQL 15's archive_command, and the cases the archiver
/// alone does not show, with real segments that server wrote: the same file again, another
/// file under the same name, a segment of another cluster, a version 1 repository.
@Suite(.serialized) struct WalPushTests {
    @Test func thePostgresArchiverStoresEverySegmentInTheRepository() throws {
        let wal = try WalArchiving()
        var segments: [String] = []
        for _ in 0..<3 { segments.append(try wal.switchSegment()) }
        let counts = try wal.archiverCounts()
        let archiver = try wal.cluster.sql("SELECT * FROM pg_stat_archiver")
        #expect(counts.failed == 0, "\(archiver)")
        #expect(counts.archived >= 3)
        for segment in segments {
            let key = try wal.key(of: segment)
            #expect(FileManager.default.fileExists(atPath: "\(wal.sandbox.repository)/\(key)"), "\(key)")
        }
        // Stored compressed and sealed: a header naming the file, then no plain WAL bytes.
        let stored = try Data(contentsOf: URL(fileURLWithPath: "\(wal.sandbox.repository)/\(try wal.key(of: segments[0]))"))
        #expect(stored.prefix(8) == Data("DRCTLWAL".utf8))
        #expect(stored.count < 16 << 20)
        let head = String(decoding: stored.prefix(4096), as: UTF8.self)
        let system = try wal.systemIdentifier
        #expect(head.contains("\"file\" : \"\(segments[0])\"") && head.contains("\"system_identifier\" : \"\(system)\""))
        // WalArchive (what a base backup waits on) sees every copy, and not one that was altered.
        let repository = Repository(regions: [Region(name: "local", store: LocalDirectoryStore(root: wal.sandbox.repository))],
                                    trust: WriterTrust(writers: .success([try wal.sandbox.signingKey.get().writerKey])))
        let archive = WalArchive(repository: repository, target: "main", systemIdentifier: try #require(UInt64(system)))
        for segment in segments {
            #expect(try archive.regionsHolding(try #require(WalFileName(segment))) == ["local"])
        }
        #expect(try archive.regionsHolding(try #require(WalFileName(segments.last!)?.next(segmentSize: 16 << 20))) == [])
        let altered = "\(wal.sandbox.repository)/\(try wal.key(of: segments[0]))"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: altered))
        let field = try #require(bytes.range(of: Data("\"pushed_at\" : \"2".utf8)))
        bytes[field.upperBound] = UInt8(ascii: "1")   // the year 1xxx: the header no longer verifies
        try bytes.write(to: URL(fileURLWithPath: altered))
        #expect(try archive.regionsHolding(try #require(WalFileName(segments[0]))) == [])

        // check names the newest archived file and where it is.
        let check = try wal.sandbox.drctl(["check", "--json"])
        #expect(check.stdout.contains("\"newest_file\" : \"\(segments.last!)\""), "\(check)")
        let text = try wal.sandbox.drctl(["check"])
        #expect(text.stdout.contains("wal archived  \(segments.last!) at "), "\(text)")
        // The repository became version 2 with the first push.
        #expect(try String(contentsOfFile: "\(wal.sandbox.repository)/repository.json", encoding: .utf8).contains("\"version\" : 2"))
    }

    /// The helper every archiving test waits with: `switchSegment` returns once the segment it
    /// switched from is archived, not at once because the archiver failed an earlier file, and
    /// throws when its timeout passes first.
    @Test func switchingASegmentWaitsForThatSegmentAfterAnEarlierFailure() throws {
        let wal = try WalArchiving()
        try wal.cluster.exec(["ALTER SYSTEM SET archive_command = 'false'", "SELECT pg_reload_conf()"])
        try wal.switchSegment()
        // The archiver's three attempts at that segment are over: no failure comes after this.
        #expect(try eventually(within: 30) { try wal.archiverCounts().failed >= 3 })
        try wal.cluster.exec(["ALTER SYSTEM RESET archive_command", "SELECT pg_reload_conf()"])
        let segment = try wal.switchSegment()
        #expect(try wal.cluster.sql("SELECT last_archived_wal FROM pg_stat_archiver") == segment)

        // Neither archived nor failed within its timeout: an error, not a return as if it were.
        try wal.cluster.exec(["ALTER SYSTEM SET archive_command = 'sleep 5'", "SELECT pg_reload_conf()"])
        #expect(throws: WalArchiving.SwitchNotArchived.self) { try wal.switchSegment(timeout: 1) }
    }

    /// wal-push runs once per segment on PostgreSQL's critical path: to a directory region it
    /// uses neither libpq nor libcurl, so it must not load them (they and their dependency chains
    /// cost ~3 ms a process). The dynamic loader's own account (LD_DEBUG=libs) says what it loaded.
    @Test func aPushToADirectoryLoadsNeitherLibpqNorLibcurl() throws {
        let wal = try WalArchiving()
        let segment = try wal.switchSegment()
        let copy = try wal.copyOfSegment(segment)
        let push = try Command.run(["runuser", "-u", "postgres", "--", "env", "LD_DEBUG=libs", Drctl.binary, "wal-push",
                                    "--target", "main", "--pgdata", wal.cluster.dataDirectory.path, copy, "--policy", wal.sandbox.policyPath])
        #expect(push.status == 0, "\(push)")
        #expect(push.stderr.contains("libzstd.so"), "LD_DEBUG reported nothing: \(push)")   // the account is there
        #expect(!push.stderr.contains("libpq.so"), "\(push)")
        #expect(!push.stderr.contains("libcurl.so"), "\(push)")
        // `version` reports both libraries' versions: it loads them when asked.
        let version = try Drctl.run(["version"])
        #expect(version.status == 0 && version.stdout.contains("libpq 1") && version.stdout.contains("libcurl 7"), "\(version)")
    }

    @Test func theSameSegmentAgainIsSuccessAndOtherContentsUnderItsNameAreAConflict() throws {
        let wal = try WalArchiving()
        let segment = try wal.switchSegment()
        let copy = try wal.copyOfSegment(segment)
        let data = wal.cluster.dataDirectory.path
        let again = try wal.drctlAsPostgres(["wal-push", "--target", "main", "--pgdata", data, copy])
        #expect(again.status == 0, "\(again)")
        #expect(again.stderr.contains("already_held"), "\(again)")

        // One byte changed past the header: the same name, other contents.
        let handle = try #require(FileHandle(forUpdatingAtPath: copy))
        try handle.seek(toOffset: 100_000)
        let byte = try #require(try handle.read(upToCount: 1)).first!
        try handle.seek(toOffset: 100_000)
        try handle.write(contentsOf: Data([byte ^ 0xff]))
        try handle.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: "\(wal.sandbox.repository)/\(try wal.key(of: segment))"))
        let conflict = try wal.drctlAsPostgres(["wal-push", "--target", "main", "--pgdata", data, copy])
        #expect(conflict.status == 1, "\(conflict)")
        #expect(conflict.stderr.contains("already archived with other contents"), "\(conflict)")
        // The archived copy is kept as it was.
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(wal.sandbox.repository)/\(try wal.key(of: segment))")) == before)
        // A failure record of kind wal names it, and check warns.
        let records = wal.sandbox.files(under: "\(wal.sandbox.repository)/records/main/failures")
        #expect(records.count == 1)
        let record = try String(contentsOfFile: "\(wal.sandbox.repository)/records/main/failures/\(records.first ?? "")", encoding: .utf8)
        #expect(record.contains("\"kind\" : \"wal\"") && record.contains(segment), "\(record)")
        let check = try wal.sandbox.drctl(["check"])
        #expect(check.stdout.contains("WARNING") && check.stdout.contains("WAL conflict"), "\(check)")
    }

    @Test func aSegmentOfAnotherClusterIsRefused() throws {
        let wal = try WalArchiving()
        let ours = try wal.switchSegment()
        let other = try PostgresCluster.start(settings: ["wal_keep_size = '1GB'"])
        defer { other.stop() }
        try other.exec(["CREATE TABLE x AS SELECT g FROM generate_series(1, 1000) g"])
        let name = try other.sql("SELECT pg_walfile_name(pg_current_wal_lsn())")
        try other.sql("SELECT pg_switch_wal()")
        let foreign = "\(wal.sandbox.root)/foreign/\(name)"
        try FileManager.default.createDirectory(atPath: "\(wal.sandbox.root)/foreign", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: other.dataDirectory.appendingPathComponent("pg_wal/\(name)").path, toPath: foreign)
        try WalArchiving.giveToPostgres("\(wal.sandbox.root)/foreign")

        // Given to our server's archiver: its header names another cluster than pg_control.
        let refused = try wal.drctlAsPostgres(["wal-push", "--target", "main", "--pgdata", wal.cluster.dataDirectory.path, foreign])
        #expect(refused.status == 2, "\(refused)")
        #expect(refused.stderr.contains("belongs to the cluster with system identifier"), "\(refused)")

        // The other cluster archiving under our target's name: the archive holds only ours.
        try WalArchiving.giveToPostgres(other.dir.path)
        let intruder = try wal.drctlAsPostgres(["wal-push", "--target", "main", "--pgdata", other.dataDirectory.path, foreign])
        #expect(intruder.status == 2, "\(intruder)")
        #expect(intruder.stderr.contains("not of this cluster"), "\(intruder)")
        let otherSystem = try other.sql("SELECT system_identifier FROM pg_control_system()")
        #expect(!FileManager.default.fileExists(atPath: "\(wal.sandbox.repository)/wal/main/\(otherSystem)"))
        // A new cluster of the target (after initdb) is accepted when told so.
        let accepted = try wal.drctlAsPostgres(["wal-push", "--target", "main", "--pgdata", other.dataDirectory.path, "--new-system", foreign])
        #expect(accepted.status == 0, "\(accepted)")
        #expect(FileManager.default.fileExists(atPath: "\(wal.sandbox.repository)/\(try wal.key(of: name, system: otherSystem))"))
        #expect(FileManager.default.fileExists(atPath: "\(wal.sandbox.repository)/\(try wal.key(of: ours))"))
    }

    @Test func aVersionOneRepositoryIsRefusedNamingTheUpgrade() throws {
        let wal = try WalArchiving(settings: ["archive_mode = off"])
        try FileManager.default.createDirectory(atPath: wal.sandbox.repository, withIntermediateDirectories: true)
        try """
            {"created_at" : "2026-11-22T05:10:08.412Z", "created_by" : "drctl 0.1.0", "format" : "drctl-repository", "version" : 1}

            """.write(toFile: "\(wal.sandbox.repository)/repository.json", atomically: true, encoding: .utf8)
        try WalArchiving.giveToPostgres(wal.sandbox.repository)
        try wal.cluster.exec(["CREATE TABLE t AS SELECT 1 AS x"])
        let name = try wal.cluster.sql("SELECT pg_walfile_name(pg_current_wal_lsn())")
        let copy = try wal.copyOfSegment(name)
        let refused = try wal.drctlAsPostgres(["wal-push", "--target", "main", "--pgdata", wal.cluster.dataDirectory.path, copy])
        #expect(refused.status == 2, "\(refused)")
        #expect(refused.stderr.contains("drctl repository upgrade"), "\(refused)")
        #expect(!FileManager.default.fileExists(atPath: "\(wal.sandbox.repository)/wal"))
    }

    @Test func aFileThatIsNoWalFileOrTargetThatIsNotPhysicalIsRefused() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("files", ["true"])], rawTargets: WalArchiving.physicalTarget)
        try "x".write(toFile: "\(sandbox.root)/notes.txt", atomically: true, encoding: .utf8)
        let badName = try sandbox.drctl(["wal-push", "--target", "main", "\(sandbox.root)/notes.txt"])
        #expect(badName.status == 2 && badName.stderr.contains("not the name of a WAL file"), "\(badName)")
        let logical = try sandbox.drctl(["wal-push", "--target", "files", "\(sandbox.root)/000000010000000000000001"])
        #expect(logical.status == 2 && logical.stderr.contains("mode: physical"), "\(logical)")
        let short = "\(sandbox.root)/000000010000000000000001"
        try "not a segment".write(toFile: short, atomically: true, encoding: .utf8)
        let notSegment = try sandbox.drctl(["wal-push", "--target", "main", short])
        #expect(notSegment.status == 2 && notSegment.stderr.contains("is not a WAL segment"), "\(notSegment)")
        let missing = try sandbox.drctl(["wal-push", "--target", "main", "\(sandbox.root)/000000010000000000000002"])
        #expect(missing.status == 1 && missing.stderr.contains("cannot read"), "\(missing)")
        let folder = "\(sandbox.root)/000000010000000000000003"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let directory = try sandbox.drctl(["wal-push", "--target", "main", folder])
        #expect(directory.status == 1 && directory.stderr.contains("cannot read '\(folder)': it is not a regular file"), "\(directory)")
    }

    /// Every WAL file takes the path a segment takes (read in pieces, hashed, compressed by
    /// zstd's workers into one frame, sealed as it comes): a `.history` file, shorter than one
    /// piece and without a page header, and a `.partial` segment come back from `wal-fetch`
    /// byte for byte, under the keys FORMAT.md gives them.
    @Test func aHistoryFileAndAPartialSegmentComeBackByteForByte() throws {
        let wal = try WalArchiving()
        let segment = try wal.switchSegment()
        let partial = try wal.copyOfSegment(segment, into: "partial")
        try FileManager.default.moveItem(atPath: partial, toPath: partial + ".partial")
        let history = "\(wal.sandbox.root)/partial/00000002.history"
        try "1\t0/3000000\tno recovery target specified\n".write(toFile: history, atomically: true, encoding: .utf8)
        try WalArchiving.giveToPostgres("\(wal.sandbox.root)/partial")
        let data = wal.cluster.dataDirectory.path
        for file in [partial + ".partial", history] {
            let name = (file as NSString).lastPathComponent
            let push = try wal.drctlAsPostgres(["wal-push", "--target", "main", "--pgdata", data, file])
            #expect(push.status == 0, "\(push)")
            #expect(FileManager.default.fileExists(atPath: "\(wal.sandbox.repository)/\(try wal.key(of: name))"), "\(name)")
            let fetched = "\(wal.sandbox.root)/partial/fetched-\(name)"
            let fetch = try wal.drctlAsPostgres(["wal-fetch", "--target", "main", "--pgdata", data, "--spool", "off", name, fetched])
            #expect(fetch.status == 0, "\(fetch)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: fetched)) == Data(contentsOf: URL(fileURLWithPath: file)), "\(name)")
        }
    }

    /// A segment stored at about a third of its size: its stored size has the digits the early
    /// write into a directory region estimates, so its body is written before its head, at the
    /// room left for it (`WalEarlyWrite`), and must come back byte for byte. (Mostly empty and
    /// incompressible segments miss the estimate and are written the ordinary way: the tests
    /// above and WalPushInterruptionTests.)
    @Test func aSegmentWrittenBodyFirstComesBackByteForByte() throws {
        let wal = try WalArchiving(settings: ["archive_mode = off"])
        let segment = try wal.switchSegmentUnarchived()
        let copy = try wal.copyOfSegment(segment)
        let random = try #require(FileHandle(forReadingAtPath: "/dev/urandom")).readData(ofLength: 5 << 20)
        let handle = try #require(FileHandle(forUpdatingAtPath: copy))
        try handle.seek(toOffset: 8192)
        try handle.write(contentsOf: random)
        try handle.close()
        let data = wal.cluster.dataDirectory.path
        let push = try wal.drctlAsPostgres(["wal-push", "--target", "main", "--pgdata", data, copy])
        #expect(push.status == 0, "\(push)")
        let stored = try #require(try FileManager.default.attributesOfItem(atPath: "\(wal.sandbox.repository)/\(try wal.key(of: segment))")[.size] as? Int)
        // WalEarlyWrite.estimatedStoredSize of a 16 MiB segment: 5,033,164, seven digits.
        #expect((1_000_000..<10_000_000).contains(stored), "stored \(stored) bytes: not the estimate's seven digits")
        let fetched = "\(wal.sandbox.root)/scratch/fetched"
        let fetch = try wal.drctlAsPostgres(["wal-fetch", "--target", "main", "--pgdata", data, "--spool", "off", segment, fetched])
        #expect(fetch.status == 0, "\(fetch)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: fetched)) == Data(contentsOf: URL(fileURLWithPath: copy)))
    }

    /// A command line whose last argument is the file, as `archive_command` has it, has the file
    /// opened and sealed from before it is parsed (WalPushPrestart); one whose early reading
    /// guessed another file or level is parsed and pushed as ever, at the level it names.
    @Test func theFileIsSealedBeforeTheCommandLineIsParsedOnlyWhenTheGuessHolds() throws {
        let wal = try WalArchiving(settings: ["archive_mode = off"])
        let data = wal.cluster.dataDirectory.path
        let asPostgres = ["runuser", "-u", "postgres", "--", Drctl.binary, "wal-push", "--policy", wal.sandbox.policyPath,
                          "--target", "main", "--pgdata", data, "--log-level", "debug"]
        let early = "from before the command line was parsed"
        func storedLevel(_ segment: String) throws -> Bool {
            let stored = try Data(contentsOf: URL(fileURLWithPath: "\(wal.sandbox.repository)/\(try wal.key(of: segment))"))
            return String(decoding: stored.prefix(4096), as: UTF8.self).contains("\"level\" : 3")
        }
        var pushed: [(segment: String, copy: String)] = []
        for commandLine in [
            { (copy: String) in asPostgres + ["--compression-level=3", copy] },                  // the guess holds
            { (copy: String) in asPostgres + ["--compression-level", "5", "--compression-level", "3", copy] },   // the level guessed is not the one parsed
            { (copy: String) in Array(asPostgres.prefix(6)) + [copy] + asPostgres.dropFirst(6) + ["--compression-level", "3"] },   // the file is not last
        ] {
            let segment = try wal.switchSegmentUnarchived()
            let copy = try wal.copyOfSegment(segment)
            let push = try Command.run(commandLine(copy))
            #expect(push.status == 0, "\(push)")
            #expect(push.stderr.contains(early) == pushed.isEmpty, "\(push)")
            #expect(try storedLevel(segment), "\(segment) not stored at the level parsed")
            pushed.append((segment, copy))
        }
        for (segment, copy) in pushed {
            let fetched = "\(wal.sandbox.root)/scratch/\(segment)"
            let fetch = try wal.drctlAsPostgres(["wal-fetch", "--target", "main", "--pgdata", data, "--spool", "off", segment, fetched])
            #expect(fetch.status == 0, "\(fetch)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: fetched)) == Data(contentsOf: URL(fileURLWithPath: copy)))
        }
    }
}
