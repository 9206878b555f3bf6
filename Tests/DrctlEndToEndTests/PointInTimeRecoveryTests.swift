import DrctlSources
import DrctlStorage
import DrctlTestSupport
import Foundation
import Testing

/// Recovery targets the way PostgreSQL's own recovery tests check them (src/test/recovery,
/// 003_recovery_targets.pl): batches of rows committed with their times and WAL positions
/// recorded, base backups between batches, and a restore to each recorded point gives exactly the
/// rows committed by then. A real PostgreSQL 15 archives through the real drctl binary
/// (`wal-push`) and recovers through it (`wal-fetch`).
@Suite(.serialized) struct PointInTimeRecoveryTests {
    /// The archiving cluster with the target `main` pointed at it (its socket; waits up to 60 s
    /// for a base backup's WAL); `more` follows the target in the policy (more of its keys,
    /// indented by four, e.g. `retention:`; then top-level ones such as `metrics:`).
    static func archiving(settings: [String] = [], more: String = "") throws -> WalArchiving {
        let wal = try WalArchiving(settings: settings)
        try wal.sandbox.writePolicy(targets: [], rawTargets: PhysicalBackupTests.target(wal.cluster, name: "main") + more)
        try WalArchiving.giveToPostgres(wal.sandbox.root)
        return wal
    }

    /// One batch: `count` rows in one transaction, then the time and WAL position just after
    /// its commit (in UTC, with its offset: what an operator would type).
    struct Batch {
        let number: Int
        let time: String
        let lsn: String
    }

    static func commit(batch number: Int, count: Int = 10, on cluster: PostgresCluster) throws -> Batch {
        try cluster.exec(["CREATE TABLE IF NOT EXISTS batches (batch int, item int)",
                          "INSERT INTO batches SELECT \(number), g FROM generate_series(1, \(count)) g"])
        let row = try cluster.sql("""
            SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || ' ' || pg_current_wal_lsn()
            """).split(separator: " ")
        usleep(50_000)   // the next commit is clearly later than this batch's recorded time
        return Batch(number: number, time: String(row[0]), lsn: String(row[1]))
    }

    /// Restores with `arguments` (along `timeline`: the original one unless told), starts the
    /// server, and returns the batches it holds and their rows ("1,2,3 30"); the server is
    /// stopped again.
    static func restoredBatches(_ wal: WalArchiving, into name: String, _ arguments: [String],
                                timeline: String? = "1") throws -> (String, Drctl.Result) {
        let data = "\(wal.sandbox.root)/\(name)"
        let port = try LoopbackPort.free()
        let restore = try wal.sandbox.drctl(["restore", "--target", "main", "--to", data, "--start", "--port", "\(port)"]
                                            + (timeline.map { ["--timeline", $0] } ?? []) + arguments)
        guard restore.status == 0 else { return ("", restore) }
        defer { _ = try? Command.run(["runuser", "-u", "postgres", "--", "\(PostgresCluster.binDir)/pg_ctl", "-D", data, "-m", "immediate", "stop"]) }
        let batches = try PostgresCluster.run("\(PostgresCluster.binDir)/psql", [
            "-X", "-At", "-h", data, "-p", "\(port)", "-U", "postgres", "-d", "postgres",
            "-c", "SELECT string_agg(DISTINCT batch::text, ',' ORDER BY batch::text) || ' ' || count(*) FROM batches",
        ]).trimmingCharacters(in: .whitespacesAndNewlines)
        return (batches, restore)
    }

    /// An archiving cluster with batch 1 before its base backup and batch 2 after, archived.
    static func backedUpBetweenTwoBatches(settings: [String] = []) throws -> WalArchiving {
        let wal = try archiving(settings: settings)
        _ = try commit(batch: 1, on: wal.cluster)
        let backup = try wal.drctlAsPostgres(["backup"])
        try #require(backup.status == 0, "\(backup)")
        _ = try commit(batch: 2, on: wal.cluster)
        try wal.switchSegment(rows: 1)
        return wal
    }

    /// The batches a restored server at `data` holds ("1,2").
    static func batches(in data: String, port: Int) throws -> String {
        try PostgresCluster.run("\(PostgresCluster.binDir)/psql", [
            "-X", "-At", "-h", data, "-p", "\(port)", "-U", "postgres", "-d", "postgres",
            "-c", "SELECT string_agg(DISTINCT batch::text, ',' ORDER BY batch::text) FROM batches",
        ]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func eachRecordedTimeAndPositionAndLatestGiveExactlyTheRowsCommittedByThen() throws {
        let wal = try Self.archiving()
        let pg = wal.cluster
        let b1 = try Self.commit(batch: 1, on: pg)
        // Backups run as the server's user, as the archiver does: the repository stays theirs.
        let first = try wal.drctlAsPostgres(["backup"])
        try #require(first.status == 0, "\(first)")
        let b2 = try Self.commit(batch: 2, on: pg)
        let b3 = try Self.commit(batch: 3, on: pg)
        let second = try wal.drctlAsPostgres(["backup"])
        #expect(second.status == 0, "\(second)")
        let b4 = try Self.commit(batch: 4, on: pg)
        _ = try Self.commit(batch: 5, on: pg)
        try wal.switchSegment(rows: 1)   // everything up to batch 5 is archived

        // The manifest records where each base backup starts and ends.
        let manifests = wal.sandbox.files(under: "\(wal.sandbox.repository)/manifests/main").sorted()
        #expect(manifests.count == 2)
        let manifest = try String(contentsOfFile: "\(wal.sandbox.repository)/manifests/main/\(manifests[0])", encoding: .utf8)
        #expect(manifest.contains("\"kind\" : \"postgres-physical\"") && manifest.contains("\"precision\" : \"recoverable\""))
        #expect(manifest.contains("\"system_identifier\" : \"\(try wal.systemIdentifier)\""))

        // Before the first base backup ended: nothing to recover from, and nothing written.
        let (_, early) = try Self.restoredBatches(wal, into: "early", ["--point-in-time", b1.time])
        #expect(early.status == 5 && early.stderr.contains("no base backup that ends at or before"), "\(early)")
        #expect(!FileManager.default.fileExists(atPath: "\(wal.sandbox.root)/early"))

        // Past the newest WAL in the archive: recovery could never get there.
        let future = ISO8601DateFormatter().string(from: Date().addingTimeInterval(3600))
        let (_, late) = try Self.restoredBatches(wal, into: "late", ["--point-in-time", future])
        #expect(late.status == 2 && late.stderr.contains("past the newest WAL in the archive"), "\(late)")
        #expect(!FileManager.default.fileExists(atPath: "\(wal.sandbox.root)/late"))

        for (name, arguments, expected) in [
            ("t2", ["--point-in-time", b2.time], "1,2 20"),
            ("l2", ["--lsn", b2.lsn], "1,2 20"),
            ("t3", ["--point-in-time", b3.time], "1,2,3 30"),
            ("l3", ["--lsn", b3.lsn], "1,2,3 30"),
            ("t4", ["--point-in-time", b4.time], "1,2,3,4 40"),
            ("latest", ["--point-in-time", "latest"], "1,2,3,4,5 50"),
        ] {
            let (batches, restore) = try Self.restoredBatches(wal, into: name, arguments)
            #expect(batches == expected, "\(name): \(restore)")
            #expect(restore.stdout.contains("every file verified against its backup_manifest") && restore.stdout.contains("promoted: last replayed commit"),
                    "\(name): \(restore)")
        }
        // A data directory that is not empty is never written into without --force.
        let (_, again) = try Self.restoredBatches(wal, into: "t2", ["--point-in-time", b2.time])
        #expect(again.status == 6 && again.stderr.contains("is not empty"), "\(again)")
    }

    /// Recovery through wal-fetch's spool (WalSpoolTests): the restore writes `--spool
    /// PGDATA.drctl-wal-spool` (beside the data directory, outside it) and creates it empty, the
    /// server's user's alone, and nothing of drctl's is left inside PGDATA; a recovery to a
    /// position with more archived segments after it reaches exactly that position, and once the
    /// server has promoted no read-ahead worker runs and no segment is left in the spool.
    @Test func aRecoveryThroughTheSpoolReachesExactlyItsTargetAndLeavesTheSpoolEmpty() throws {
        let wal = try Self.archiving()
        let pg = wal.cluster
        _ = try Self.commit(batch: 1, on: pg)
        let backup = try wal.drctlAsPostgres(["backup"])
        try #require(backup.status == 0, "\(backup)")
        var batches: [Batch] = []
        for number in 2...7 {
            batches.append(try Self.commit(batch: number, count: 2000, on: pg))
            try wal.switchSegment(rows: 1)
        }
        let (rows, restore) = try Self.restoredBatches(wal, into: "restored", ["--lsn", batches[2].lsn])
        #expect(rows == "1,2,3,4 6010", "\(restore)")
        let data = "\(wal.sandbox.root)/restored"
        let settings = try String(contentsOfFile: "\(data)/postgresql.auto.conf", encoding: .utf8)
        let spool = "\(data).drctl-wal-spool"
        #expect(settings.contains("--spool \(spool) "), "\(settings)")
        let walEntries = try FileManager.default.contentsOfDirectory(atPath: "\(data)/pg_wal")
        #expect(walEntries.allSatisfy { $0 == "archive_status" || WalFileName($0) != nil }, "\(walEntries)")
        let attributes = try FileManager.default.attributesOfItem(atPath: spool)
        #expect(attributes[.posixPermissions] as? Int == 0o700 && attributes[.ownerAccountName] as? String == "postgres", "\(attributes)")
        #expect(try eventually(within: 60) { !WalSpoolTests.workerRuns(spool) })
        #expect(try WalSpoolTests.spooled(spool).isEmpty, "\(WalSpoolTests.workerLog(spool))")
    }

    /// A spool that cannot be made (here an immutable file holds its name: even root cannot
    /// replace it) costs the read-ahead, not the restore: a warning names the spool, the
    /// settings say `--spool off`, and recovery through the regions reaches the target.
    @Test func aSpoolThatCannotBeMadeTurnsTheReadAheadOffNotTheRestore() throws {
        let wal = try Self.backedUpBetweenTwoBatches()
        let blocker = "\(wal.sandbox.root)/unspooled.drctl-wal-spool"
        FileManager.default.createFile(atPath: blocker, contents: Data("not a spool".utf8))
        try #require(try Command.run(["chattr", "+i", blocker]).status == 0)
        defer { _ = try? Command.run(["chattr", "-i", blocker]) }

        let (rows, restore) = try Self.restoredBatches(wal, into: "unspooled", ["--point-in-time", "latest"])
        #expect(rows == "1,2 20", "\(restore)")
        #expect(restore.stderr.contains("WAL read-ahead is off for this recovery") && restore.stderr.contains(blocker), "\(restore)")
        let settings = try String(contentsOfFile: "\(wal.sandbox.root)/unspooled/postgresql.auto.conf", encoding: .utf8)
        #expect(settings.contains("--spool off "), "\(settings)")
    }

    /// A tablespace `name` in a new directory of the cluster's, `statements` run after creating
    /// it (its tables), then a base backup; returns the tablespace's directory.
    static func backedUp(tablespace name: String, of wal: WalArchiving, holding statements: [String]) throws -> String {
        let source = wal.cluster.dir.appendingPathComponent(name).path
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        try WalArchiving.giveToPostgres(source)
        try wal.cluster.exec(["CREATE TABLESPACE \(name) LOCATION '\(source)'"] + statements)
        let backup = try wal.drctlAsPostgres(["backup"])
        try #require(backup.status == 0, "\(backup)")
        return source
    }

    @Test func aTablespaceIsRestoredWhereTheMapSays() throws {
        let wal = try Self.archiving()
        let pg = wal.cluster
        let source = try Self.backedUp(tablespace: "ts1", of: wal,
                                       holding: ["CREATE TABLE spaced (id int) TABLESPACE ts1", "INSERT INTO spaced SELECT generate_series(1, 777)"])
        try pg.exec(["INSERT INTO spaced SELECT generate_series(778, 1000)"])
        try wal.switchSegment(rows: 1)

        // The source's directory is in use: without a map the restore refuses to write into it.
        let data = "\(wal.sandbox.root)/spaced"
        let refused = try wal.sandbox.drctl(["restore", "--target", "main", "--to", data, "--point-in-time", "latest"])
        #expect(refused.status == 6 && refused.stderr.contains(source), "\(refused)")
        #expect(!FileManager.default.fileExists(atPath: data))

        let moved = "\(wal.sandbox.root)/ts1-restored"
        let port = try LoopbackPort.free()
        let restore = try wal.sandbox.drctl(["restore", "--target", "main", "--to", data, "--point-in-time", "latest", "--timeline", "1",
                                             "--tablespace-map", "\(source)=\(moved)", "--start", "--port", "\(port)"])
        try #require(restore.status == 0, "\(restore)")
        defer { _ = try? Command.run(["runuser", "-u", "postgres", "--", "\(PostgresCluster.binDir)/pg_ctl", "-D", data, "-m", "immediate", "stop"]) }
        let oid = try pg.sql("SELECT oid FROM pg_tablespace WHERE spcname = 'ts1'")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "\(data)/pg_tblspc/\(oid)") == moved)
        let psql = ["-X", "-At", "-h", data, "-p", "\(port)", "-U", "postgres", "-d", "postgres", "-c"]
        #expect(try PostgresCluster.run("\(PostgresCluster.binDir)/psql", psql + ["SELECT count(*) FROM spaced"])
            .trimmingCharacters(in: .whitespacesAndNewlines) == "1000")
        #expect(try PostgresCluster.run("\(PostgresCluster.binDir)/psql", psql + ["SELECT pg_tablespace_location(\(oid))"])
            .trimmingCharacters(in: .whitespacesAndNewlines) == moved)
        // Owned by the server's user, the data directory 0700.
        var info = stat()
        stat(data, &info)
        #expect(info.st_mode & 0o777 == 0o700)
        #expect(getpwuid(info.st_uid).map { String(cString: $0.pointee.pw_name) } == "postgres")
    }

    /// Without --start no PostgreSQL start-up syncs the restored files (xlog.c StartupXLOG:
    /// SyncDataDirectory() for a data directory not shut down cleanly, as a base backup's is), so
    /// the restore itself reports success only once every file it wrote, the tablespace's too,
    /// is on disk: no page left dirty or under write-back in the page cache.
    @Test func aRestoreWithoutStartReportsSuccessOnlyWithEveryFileOnDisk() throws {
        let wal = try Self.archiving()
        let source = try Self.backedUp(tablespace: "durable", of: wal, holding: [
            "CREATE TABLE spaced TABLESPACE durable AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 20000) g",
        ])
        try wal.switchSegment(rows: 1)

        let data = "\(wal.sandbox.root)/durable"
        let moved = "\(wal.sandbox.root)/ts-durable-restored"
        // Hence no --no-sync (a logical restore's scratch files) here: refused before anything is written.
        let noSync = try wal.sandbox.drctl(["restore", "--target", "main", "--to", data, "--point-in-time", "latest", "--no-sync"])
        #expect(noSync.status == 2 && noSync.stderr.contains("--no-sync restore logical targets only"), "\(noSync)")
        #expect(!FileManager.default.fileExists(atPath: data))
        let restore = try wal.sandbox.drctl(["restore", "--target", "main", "--to", data, "--point-in-time", "latest",
                                             "--tablespace-map", "\(source)=\(moved)"])
        try #require(restore.status == 0, "\(restore)")
        let unsynced = try PageCache.unsyncedFiles(under: [data, moved])
        let count = unsynced.count
        #expect(count == 0, "restored but not on disk: \(unsynced.prefix(10).joined(separator: ", ")) (\(count) files)")
    }

    /// A base backup whose stored bytes are authentic (sealed again with its data key, as a key
    /// holder could) but one of whose files differs from its `backup_manifest` entry: the
    /// restore names the file, exits with the integrity class, sets up no recovery and starts
    /// nothing.
    @Test func aFileThatDiffersFromTheBackupManifestFailsTheRestoreNamingIt() throws {
        let wal = try Self.archiving()
        _ = try Self.commit(batch: 1, on: wal.cluster)
        let backup = try wal.drctlAsPostgres(["backup"])
        try #require(backup.status == 0, "\(backup)")
        try wal.switchSegment(rows: 1)
        let manifests = "\(wal.sandbox.repository)/manifests/main"
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: manifests).first)
        try ObjectResealer.reseal("base.tar", manifest: "\(manifests)/\(name)", region: wal.sandbox.repository,
                                  keyFile: wal.sandbox.keyPath) { tar in
            tar[try #require(TarMembers.header(of: "PG_VERSION", in: tar)) + 512] ^= 0x01   // "15" → "05"
        }

        let data = "\(wal.sandbox.root)/damaged"
        let restore = try wal.sandbox.drctl(["restore", "--target", "main", "--to", data, "--point-in-time", "latest", "--timeline", "1",
                                             "--start", "--port", "\(try LoopbackPort.free())"])
        #expect(restore.status == 3 && restore.stderr.contains("checksum mismatch for file \"PG_VERSION\"")
                    && restore.stderr.contains("nothing was started"), "\(restore)")
        #expect(FileManager.default.fileExists(atPath: "\(data)/PG_VERSION"))
        for name in ["recovery.signal", "postmaster.pid", "drctl-recovery.log"] {
            #expect(!FileManager.default.fileExists(atPath: "\(data)/\(name)"), "\(name)")
        }
    }

    /// Files an operator or an extension left in the data directory under names that are not
    /// UTF-8 (PostgreSQL's own are ASCII): BASE_BACKUP sends the names' bytes as they are and
    /// `backup_manifest` lists them as `Encoded-Path`. The restore writes each under exactly its
    /// bytes, with its contents, as GNU tar would, and PostgreSQL's own `pg_verifybackup` agrees.
    @Test func filesWhoseNamesAreNotUTF8AreRestoredUnderTheirOwnBytes() throws {
        let wal = try Self.archiving()
        let source = wal.cluster.dataDirectory.path
        let stray = ByteNamedFiles.bytes("stray-", [0xff, 0xfe])
        let folder = ByteNamedFiles.bytes("notes-", [0xe9])   // Latin-1 "é"
        let inner = folder + ByteNamedFiles.bytes("/caf", [0xe9]) + ByteNamedFiles.bytes(".txt")
        let contents = [stray: ByteNamedFiles.bytes("left by hand\n"), inner: ByteNamedFiles.bytes("in a folder\n", [0x00, 0xff])]
        try ByteNamedFiles.write(contents[stray]!, to: stray, in: source, owner: "postgres")
        try ByteNamedFiles.makeDirectory(folder, in: source, owner: "postgres")
        try ByteNamedFiles.write(contents[inner]!, to: inner, in: source, owner: "postgres")
        _ = try Self.commit(batch: 1, on: wal.cluster)
        let backup = try wal.drctlAsPostgres(["backup"])
        try #require(backup.status == 0, "\(backup)")
        try wal.switchSegment(rows: 1)

        let data = "\(wal.sandbox.root)/bytes"
        let restore = try wal.sandbox.drctl(["restore", "--target", "main", "--to", data, "--point-in-time", "latest"])
        try #require(restore.status == 0, "\(restore)")
        for (name, bytes) in contents {
            #expect(ByteNamedFiles.read(name, in: data) == bytes, "\(name)")
        }
        // Under those names only: none written under another (replacement characters, say).
        let notUTF8 = { (names: [[UInt8]]) in names.filter { String(validating: $0, as: UTF8.self) == nil } }
        #expect(notUTF8(ByteNamedFiles.names(in: data)) == [folder, stray].sorted { $0.lexicographicallyPrecedes($1) })
        #expect(ByteNamedFiles.names(in: data, folder) == [Array(inner.dropFirst(folder.count + 1))])
        // (tablespace_map is gone: the restore consumed it once the links were made.)
        let verified = try Command.run(["\(PostgresCluster.binDir)/pg_verifybackup", "--no-parse-wal", "--quiet",
                                        "--ignore", "tablespace_map", data])
        #expect(verified.status == 0, "\(verified)")

        // Again into the same directory with --force: it is emptied first, those names too.
        let again = try wal.sandbox.drctl(["restore", "--target", "main", "--to", data, "--point-in-time", "latest", "--force"])
        #expect(again.status == 0, "\(again)")
        #expect(ByteNamedFiles.read(stray, in: data) == contents[stray])
    }

    /// A server time zone whose daylight-saving time starts `lead` seconds from now (a POSIX
    /// rule: standard time UTC+1, summer time UTC+2 from then until the end of the year).
    static func zoneSwitchingToSummerTime(in lead: TimeInterval) -> (rule: String, at: Date) {
        let at = Date().addingTimeInterval(lead)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 3600)!
        let c = calendar.dateComponents([.hour, .minute, .second], from: at)
        let day = calendar.ordinality(of: .day, in: .year, for: at)! - 1   // POSIX "n": zero-based, leap days counted
        return (String(format: "XST-1XDT,%d/%02d:%02d:%02d,%d/23:59:59", day, c.hour!, c.minute!, c.second!, min(day + 1, 365)), at)
    }

    @Test func targetsWrittenInTheServersZoneAcrossADaylightSavingChange() throws {
        let (rule, switchAt) = Self.zoneSwitchingToSummerTime(in: 45)
        let wal = try Self.archiving(settings: ["timezone = '\(rule)'", "log_timezone = 'UTC'"])
        let pg = wal.cluster
        let backup = try wal.drctlAsPostgres(["backup"])
        try #require(backup.status == 0, "\(backup)")
        // Each batch's time as the server prints it: local time with the offset of that moment.
        func commit(_ number: Int) throws -> String {
            try pg.exec(["CREATE TABLE IF NOT EXISTS batches (batch int, item int)",
                         "INSERT INTO batches SELECT \(number), g FROM generate_series(1, 10) g"])
            let local = try pg.sql("SELECT to_char(clock_timestamp(), 'YYYY-MM-DD\"T\"HH24:MI:SS.USTZH:TZM')")
            usleep(50_000)
            return local
        }
        let before = try commit(1)
        while Date() < switchAt.addingTimeInterval(1) { usleep(200_000) }
        let after = try commit(2)
        _ = try commit(3)
        try wal.switchSegment(rows: 1)
        #expect(before.hasSuffix("+01:00") && after.hasSuffix("+02:00"), "no daylight-saving change between \(before) and \(after)")

        for (name, time, expected) in [("before", before, "1 10"), ("after", after, "1,2 20")] {
            let (batches, restore) = try Self.restoredBatches(wal, into: name, ["--point-in-time", time])
            #expect(batches == expected, "\(name) \(time): \(restore)")
        }
    }

    /// Without `--port`, the restored server listens on the port its restored configuration
    /// names (the source's `postgresql.conf`), not on 5432: the port is read once the files
    /// are there, and the report says which one it is.
    @Test func withoutAPortTheServerListensWhereItsRestoredConfigurationSays() throws {
        let configured = try LoopbackPort.free()
        let wal = try Self.backedUpBetweenTwoBatches(settings: ["port = \(configured)"])

        let data = "\(wal.sandbox.root)/configured-port"
        let restore = try wal.sandbox.drctl(["restore", "--target", "main", "--to", data, "--point-in-time", "latest", "--start"])
        defer { _ = try? Command.run(["runuser", "-u", "postgres", "--", "\(PostgresCluster.binDir)/pg_ctl", "-D", data, "-m", "immediate", "stop"]) }
        try #require(restore.status == 0, "\(restore)")
        #expect(restore.stdout.contains("port \(configured)"), "\(restore)")
        #expect(try Self.batches(in: data, port: configured) == "1,2")
    }

    /// `--policy` given relative to the operator's directory: the restored server runs
    /// `restore_command` from its data directory, so the policy it names must be absolute, or
    /// recovery stops at the first WAL file ("command not executable"/no such policy).
    @Test func aPolicyNamedRelativelyIsFoundByTheRestoredServersRestoreCommand() throws {
        let wal = try Self.backedUpBetweenTwoBatches()

        let data = "\(wal.sandbox.root)/relative-policy"
        let port = try LoopbackPort.free()
        let restore = try Command.run(["/bin/sh", "-c", "cd \"$1\" && shift && exec \"$0\" \"$@\"", Drctl.binary, wal.sandbox.root,
                                       "restore", "--policy", "policy.yaml", "--cache-dir", Drctl.cacheDirectory, "--target", "main",
                                       "--to", data, "--point-in-time", "latest", "--start", "--port", "\(port)"])
        defer { _ = try? Command.run(["runuser", "-u", "postgres", "--", "\(PostgresCluster.binDir)/pg_ctl", "-D", data, "-m", "immediate", "stop"]) }
        let settings = (try? String(contentsOfFile: "\(data)/postgresql.auto.conf", encoding: .utf8)) ?? ""
        #expect(settings.contains("--policy \(wal.sandbox.policyPath)") || settings.contains("--policy '\(wal.sandbox.policyPath)'"), "\(settings)")
        try #require(restore.status == 0, "\(restore)")
        #expect(try Self.batches(in: data, port: port) == "1,2")
    }

    /// A WAL file no region can serve (its only copy damaged) makes wal-fetch exit 126 and the
    /// restored server stop recovery (FATAL): `restore --start` fails, naming the stop and
    /// quoting the server's log, and reports no promotion.
    @Test func aServerThatStopsDuringRecoveryFailsTheRestoreWithItsLog() throws {
        let wal = try Self.archiving()
        _ = try Self.commit(batch: 1, on: wal.cluster)
        let backup = try wal.drctlAsPostgres(["backup"])
        try #require(backup.status == 0, "\(backup)")
        _ = try Self.commit(batch: 2, on: wal.cluster)
        let segment = try wal.switchSegment(rows: 1)
        try wal.damageStoredCopy(of: segment)

        let data = "\(wal.sandbox.root)/stopped"
        let port = try LoopbackPort.free()
        let restore = try wal.sandbox.drctl(["restore", "--target", "main", "--to", data, "--point-in-time", "latest", "--start",
                                             "--port", "\(port)"])
        defer { _ = try? Command.run(["runuser", "-u", "postgres", "--", "\(PostgresCluster.binDir)/pg_ctl", "-D", data, "-m", "immediate", "stop"]) }
        #expect(restore.status != 0, "\(restore)")
        // The server stops before or after `pg_ctl start -w` returns (a race with its hot-standby
        // readiness): either way the error quotes its log's FATAL line.
        #expect(restore.stderr.contains("could not restore file \"\(segment)\""), "\(restore)")
        #expect(!restore.stdout.contains("promoted"), "\(restore)")
        #expect(!FileManager.default.fileExists(atPath: "\(data)/postmaster.pid"), "the server is still running")
    }

    @Test func aDrillRecoversTheArchiveToItsEndWithoutArchivingItself() throws {
        let wal = try WalArchiving()
        let target = PhysicalBackupTests.target(wal.cluster, name: "main")
            + "    drill:\n      checks:\n        - {sql: \"select count(*) from batches\", expect: \"30\", database: postgres}\n"
        try wal.sandbox.writePolicy(targets: [], rawTargets: target)
        try WalArchiving.giveToPostgres(wal.sandbox.root)
        _ = try Self.commit(batch: 1, on: wal.cluster)
        let backup = try wal.drctlAsPostgres(["backup"])
        try #require(backup.status == 0, "\(backup)")
        _ = try Self.commit(batch: 2, on: wal.cluster)
        _ = try Self.commit(batch: 3, on: wal.cluster)
        try wal.switchSegment(rows: 1)
        let archived = wal.sandbox.files(under: "\(wal.sandbox.repository)/wal").sorted()

        let scratch = "\(wal.sandbox.root)/scratch"
        let drill = try wal.sandbox.drctl(["drill", "--target", "main", "--json", "--scratch-dir", scratch])
        #expect(drill.status == 0, "\(drill)")
        let record = ((try? JSONSerialization.jsonObject(with: Data(drill.stdout.utf8))) as? [[String: Any]])?.first ?? [:]
        #expect(record["result"] as? String == "passed", "\(drill)")
        let checks = (record["checks"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(checks == ["pg_verifybackup", "recovered and promoted", "sql: select count(*) from batches (in postgres)"], "\(record)")
        // Recovered to the last commit (batch 3), not only to the base backup's end.
        #expect((record["rpo_seconds"] as? Double ?? -1) >= 0 && (record["rpo_seconds"] as? Double ?? 99) < 60, "\(record)")
        // The scratch copy promoted onto a new timeline but pushed nothing into the archive.
        #expect(wal.sandbox.files(under: "\(wal.sandbox.repository)/wal").sorted() == archived)
        #expect((try? FileManager.default.contentsOfDirectory(atPath: scratch))?.isEmpty ?? true)
    }

    @Test func aPromotedRestoreArchivesItsNewTimelineAndASecondRestoreFollowsEither() throws {
        let wal = try Self.archiving()
        let pg = wal.cluster
        _ = try Self.commit(batch: 1, on: pg)
        let backup = try wal.drctlAsPostgres(["backup"])
        try #require(backup.status == 0, "\(backup)")
        let b2 = try Self.commit(batch: 2, on: pg)
        _ = try Self.commit(batch: 3, on: pg)
        try wal.switchSegment(rows: 1)

        // Back to batch 2; the promoted copy keeps the source's archive_command and archives
        // its new timeline (and its history file) under the same target.
        let data = "\(wal.sandbox.root)/branch"
        let port = try LoopbackPort.free()
        let restore = try wal.sandbox.drctl(["restore", "--target", "main", "--to", data, "--point-in-time", b2.time,
                                             "--start", "--port", "\(port)"])
        try #require(restore.status == 0, "\(restore)")
        #expect(restore.stdout.contains("now on timeline 2"), "\(restore)")
        let psql = ["-X", "-At", "-h", data, "-p", "\(port)", "-U", "postgres", "-d", "postgres", "-c"]
        try PostgresCluster.run("\(PostgresCluster.binDir)/psql", psql + ["INSERT INTO batches SELECT 20, g FROM generate_series(1, 10) g"])
        try PostgresCluster.run("\(PostgresCluster.binDir)/psql", psql + ["SELECT pg_switch_wal()"])
        let system = try wal.systemIdentifier
        let archivedOnTwo = eventually(within: 30) {
            let files = wal.sandbox.files(under: "\(wal.sandbox.repository)/wal/main/\(system)")
            return files.contains { $0.hasSuffix("00000002.history") } && files.contains { $0.contains("/00000002") && !$0.hasSuffix(".history") }
        }
        #expect(archivedOnTwo, "\(wal.sandbox.files(under: "\(wal.sandbox.repository)/wal"))")
        _ = try? Command.run(["runuser", "-u", "postgres", "--", "\(PostgresCluster.binDir)/pg_ctl", "-D", data, "-m", "fast", "stop"])

        // The newest timeline: batches 1 and 2, then the new branch's; timeline 1: the original history.
        let (newest, first) = try Self.restoredBatches(wal, into: "newest", ["--timeline", "latest", "--point-in-time", "latest"], timeline: nil)
        #expect(newest == "1,2,20 30", "\(first)")
        let (original, second) = try Self.restoredBatches(wal, into: "original", ["--point-in-time", "latest"])
        #expect(original == "1,2,3 30", "\(second)")
    }
}
