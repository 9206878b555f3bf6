import Foundation
import Glibc
import Testing
import DrctlCrypto
import DrctlTestSupport

/// Every failed run leaves a trace monitoring sees, whatever the kind and whatever the stage
/// (issue #21, item 5): a backup that fails resolving its secrets, in its pre-flight, or half way
/// through its dump writes its failure record; a drill that fails before its restore or in its
/// verification writes a failed drill record; `check`, the report and the metrics count them,
/// and in `--log-format json` every stderr line is a JSON object. Each target had one good
/// backup first, so `check` judges the failure, not an empty repository.
@Suite struct FailureRecordTests {
    /// A sandbox whose policy has one target (`rawTarget`, YAML list item) and a metrics textfile
    /// directory.
    struct Fixture {
        let sandbox: Sandbox
        var textfiles: String { "\(sandbox.root)/textfiles" }

        init(rawTarget: String) throws {
            sandbox = try Sandbox()
            try FileManager.default.createDirectory(atPath: "\(sandbox.root)/textfiles", withIntermediateDirectories: true)
            try write(rawTarget: rawTarget)
        }

        func write(rawTarget: String, encryption: [String]? = nil) throws {
            try sandbox.writePolicy(targets: [], encryption: encryption, rawTargets: rawTarget + """
                metrics:
                  textfile: \(textfiles)
                """)
        }

        /// A backup that must succeed.
        func goodBackup(environment: [String: String] = [:]) throws {
            let backup = try Drctl.run(["backup", "--policy", sandbox.policyPath], environment: environment)
            guard backup.status == 0 else { throw Command.ShellFailed(script: "backup", result: backup) }
        }

        /// `drctl <command> --log-format json`.
        func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Drctl.Result {
            try Drctl.run(arguments + ["--policy", sandbox.policyPath, "--log-format", "json"], environment: environment)
        }
    }

    static func commandTarget(_ argv: [String], environment: String = "{}") -> String {
        """
          - name: files
            kind: command
            command: \(Sandbox.flowList(argv))
            environment: \(environment)

        """
    }

    /// A backup failing before its data flows, at one of these stages.
    enum Stage: String, CaseIterable, Sendable {
        case secretUnset, wrongPassword, serverDown
    }

    /// Runs the backup as `stage` wants it: without the secret's environment variable, with a
    /// wrong password in it, or after `stop` took the server away. Returns the run and what its
    /// error must name.
    func backup(_ fixture: Fixture, failingAt stage: Stage, variable: String, password: String, address: String,
                stop: () -> Void) throws -> (result: Drctl.Result, names: String) {
        switch stage {
        case .secretUnset:
            return (try fixture.run(["backup"]), variable)
        case .wrongPassword:
            let result = try fixture.run(["backup"], environment: [variable: "not the password"])
            #expect(!result.stderr.contains("not the password"), "the password must not be echoed")
            return (result, address)
        case .serverDown:
            stop()
            return (try fixture.run(["backup"], environment: [variable: password]), address)
        }
    }

    // MARK: PostgreSQL

    /// The pre-flight (libpq) and the secret before it: the plan is made before the job could
    /// write anything, which is where these failures used to go unrecorded.
    @Test(arguments: Stage.allCases)
    func postgresBackupFailingBeforeItsDump(stage: Stage) throws {
        let pg = try PostgresCluster.start(superuserPassword: "pg pass 42")
        let fixture = try Fixture(rawTarget: PostgresFidelityTests.target(pg))
        try fixture.goodBackup(environment: ["DRCTL_TEST_PG_PASSWORD": pg.superuserPassword!])
        let (result, names) = try backup(fixture, failingAt: stage, variable: "DRCTL_TEST_PG_PASSWORD", password: pg.superuserPassword!,
                                         address: "127.0.0.1:\(pg.port)", stop: pg.stop)
        try FailureTrace.expectFailedBackup(result, fixture.sandbox, target: "db", textfiles: fixture.textfiles, error: names)
    }

    /// Past the pre-flight: a role that may log in and read every table, but not the roles'
    /// passwords, so `pg_dumpall --globals-only` exits non-zero once the backup is streaming.
    @Test func postgresBackupFailingMidDump() throws {
        let pg = try PostgresCluster.start(superuserPassword: "pg pass 42")
        try pg.sql("CREATE ROLE weak LOGIN PASSWORD 'weak pass'")
        let fixture = try Fixture(rawTarget: PostgresFidelityTests.target(pg))
        try fixture.goodBackup(environment: ["DRCTL_TEST_PG_PASSWORD": pg.superuserPassword!])
        try fixture.write(rawTarget: PostgresFidelityTests.target(pg, user: "weak"))
        let result = try fixture.run(["backup"], environment: ["DRCTL_TEST_PG_PASSWORD": "weak pass"])
        try FailureTrace.expectFailedBackup(result, fixture.sandbox, target: "db", textfiles: fixture.textfiles, error: "pg_dumpall")
    }

    // MARK: Redis

    @Test(arguments: Stage.allCases)
    func redisBackupFailingBeforeItsSnapshot(stage: Stage) throws {
        let redis = try RedisServer(password: "s3cret pass")
        try redis.cli("SET", "k", "v")
        let fixture = try Fixture(rawTarget: RedisTargetTests().policyTarget(redis))
        try fixture.goodBackup(environment: ["DRCTL_TEST_REDIS_PASSWORD": redis.password!])
        let (result, names) = try backup(fixture, failingAt: stage, variable: "DRCTL_TEST_REDIS_PASSWORD", password: redis.password!,
                                         address: "127.0.0.1:\(redis.port)", stop: redis.kill9)
        try FailureTrace.expectFailedBackup(result, fixture.sandbox, target: "cache", textfiles: fixture.textfiles, error: names)
    }

    /// The server dies while the RDB streams (slowed by rdb-key-save-delay so the kill lands
    /// mid-transfer).
    @Test func redisServerKilledMidSnapshot() throws {
        let redis = try RedisServer(password: "s3cret pass", arguments: ["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"])
        try redis.cli("DEBUG", "POPULATE", "30000", "key", "200")
        let fixture = try Fixture(rawTarget: RedisTargetTests().policyTarget(redis))
        try fixture.goodBackup(environment: ["DRCTL_TEST_REDIS_PASSWORD": redis.password!])
        try redis.cli("CONFIG", "SET", "rdb-key-save-delay", "300")   // µs per key: ~9 s in all
        let run = try RunningDrctl(["backup", "--policy", fixture.sandbox.policyPath, "--log-format", "json"],
                                   environment: ["DRCTL_TEST_REDIS_PASSWORD": redis.password!])
        #expect(eventually(within: 30) {
            fixture.sandbox.files(under: "\(fixture.sandbox.repository)/data").contains { $0.contains(".tmp-") }
        })
        usleep(300_000)
        // The server and the child that writes the snapshot to the replica socket.
        let children = try Command.run(["/usr/bin/pgrep", "-P", "\(redis.pid)"]).stdout
        redis.kill9()
        for child in children.split(separator: "\n").compactMap({ pid_t($0) }) { kill(child, SIGKILL) }
        try FailureTrace.expectFailedBackup(run.wait(), fixture.sandbox, target: "cache", textfiles: fixture.textfiles,
                                            error: "127.0.0.1:\(redis.port)")
    }

    // MARK: Command

    enum CommandStage: String, CaseIterable, Sendable {
        case secretUnset, programMissing, exitsNonZeroMidStream
    }

    @Test(arguments: CommandStage.allCases)
    func commandBackupFailing(stage: CommandStage) throws {
        let fixture = try Fixture(rawTarget: Self.commandTarget(["sh", "-c", "echo \"$GREETING\""],
                                                                environment: "{GREETING: {env: DRCTL_TEST_GREETING}}"))
        try fixture.goodBackup(environment: ["DRCTL_TEST_GREETING": "hello"])
        let expected: String
        var environment = ["DRCTL_TEST_GREETING": "hello"]
        switch stage {
        case .secretUnset:
            environment = [:]
            expected = "DRCTL_TEST_GREETING"
        case .programMissing:
            try fixture.write(rawTarget: Self.commandTarget(["/nonexistent/dump-tool"]))
            expected = "cannot start '/nonexistent/dump-tool'"
        case .exitsNonZeroMidStream:
            try fixture.write(rawTarget: Self.commandTarget(["sh", "-c", "head -c 3000000 /dev/urandom; echo 'disk on fire' >&2; exit 3"]))
            expected = "disk on fire"
        }
        let result = try fixture.run(["backup"], environment: environment)
        try FailureTrace.expectFailedBackup(result, fixture.sandbox, target: "files", textfiles: fixture.textfiles, error: expected)
    }

    /// A program's stderr can hold connection strings, passwords, data: the failure record, in
    /// the repository for ever, keeps only the first line of the error, cut at 200 characters,
    /// and the SHA-256 of the whole message, which the local log line shows in full (issue #22).
    @Test func aProgramsStderrIsKeptOnlyToItsFirstLineInTheRecord() throws {
        let firstLine = "dump-tool: cannot connect " + String(repeating: "=", count: 200) + " password=BEYOND-THE-BOUND"
        let secondLine = "dump-tool: DSN postgres://admin:SECOND-LINE-SECRET@db.internal/prod"
        let fixture = try Fixture(rawTarget: Self.commandTarget(["echo", "hello"]))
        try fixture.goodBackup()
        try fixture.write(rawTarget: Self.commandTarget(["sh", "-c", "echo 'some data'; printf '%s\\n%s\\n' '\(firstLine)' '\(secondLine)' >&2; exit 3"]))
        let result = try fixture.run(["backup"])
        let record = try FailureTrace.onlyRecord(of: result, fixture.sandbox, target: "files", folder: "failures", status: 1,
                                                 sourceLocation: #_sourceLocation)
        let error = try #require(record["error"] as? String)
        #expect(error.contains("dump-tool: cannot connect ==") && error.count <= 200 && error.hasSuffix("…"), "\(error)")
        let stored = String(decoding: try JSONSerialization.data(withJSONObject: record), as: UTF8.self)
        #expect(!stored.contains("BEYOND-THE-BOUND") && !stored.contains("SECOND-LINE-SECRET") && !error.contains("\n"), "\(stored)")

        // The log line has the whole message, and the record its digest.
        let logged = try #require(FailureTrace.jsonLines(result.stderr).first { $0["msg"] as? String == "backup failed" })
        let full = try #require(logged["error"] as? String)
        #expect(full.contains("BEYOND-THE-BOUND") && full.contains("SECOND-LINE-SECRET"), "\(full)")
        #expect(record["error_sha256"] as? String == hex(sha256(Array(full.utf8))), "\(record)")

        let check = try fixture.sandbox.drctl(["check"])
        #expect(check.stdout.contains("WARNING: the last backup run failed") && check.stdout.contains("dump-tool: cannot connect")
                && !check.stdout.contains("SECOND-LINE-SECRET") && !check.stdout.contains("BEYOND-THE-BOUND"), "\(check)")
    }

    /// The public key the backup encrypts to is not a key: a key problem (exit 4), recorded all
    /// the same. (A key file that is missing makes the policy invalid: nothing runs.) The host
    /// keeps its secret key, with which check and metrics still tell the earlier backup's
    /// signature good.
    @Test func backupWithABrokenKey() throws {
        let fixture = try Fixture(rawTarget: Self.commandTarget(["echo", "hello"]))
        try fixture.goodBackup()
        let broken = "\(fixture.sandbox.root)/broken.pub"
        try "not a key\n".write(toFile: broken, atomically: true, encoding: .utf8)
        try fixture.write(rawTarget: Self.commandTarget(["echo", "hello"]), encryption: ["key_file: \(fixture.sandbox.keyPath)", "public_key_file: \(broken)"])
        let result = try fixture.run(["backup"])
        try FailureTrace.expectFailedBackup(result, fixture.sandbox, target: "files", textfiles: fixture.textfiles,
                                            error: "broken.pub", status: 4)
    }

    // MARK: The agent

    /// A scheduled backup fails its pre-flight just as a one-shot one does: the agent's catch-up
    /// run (the last backup is 90 minutes old, the schedule hourly) meets a wrong password. 90
    /// minutes: one tick was missed, never two (with two hours, the hour after the missed tick
    /// plus the grace had passed whenever the test ran in the second half of an hour, and
    /// `check` was CRITICAL for the missed backups rather than WARNING for the failed run).
    @Test func scheduledBackupFailingItsPreflight() throws {
        let pg = try PostgresCluster.start(superuserPassword: "pg pass 42")
        let fixture = try Fixture(rawTarget: PostgresFidelityTests.target(pg) + """
                schedule: "0 * * * *"
            agent:
              listen: 127.0.0.1:0

            """)
        try fixture.goodBackup(environment: ["DRCTL_TEST_PG_PASSWORD": pg.superuserPassword!])
        try CheckTests.moveBackupBack(fixture.sandbox, target: "db", to: Date().addingTimeInterval(-90 * 60),
                                      regions: [fixture.sandbox.repository])
        let agent = try RunningDrctl(["agent", "--policy", fixture.sandbox.policyPath, "--log-format", "json"],
                                     environment: ["DRCTL_TEST_PG_PASSWORD": "not the password"])
        let failures = "\(fixture.sandbox.repository)/records/db/failures"
        let textfile = "\(fixture.textfiles)/drctl_db_backup.prom"
        #expect(eventually(within: 30) {
            !fixture.sandbox.files(under: failures).isEmpty
                && ((try? String(contentsOfFile: textfile, encoding: .utf8)) ?? "").contains("result=\"failed\"} 1")
        }, "\(agent.peekStderr())")
        kill(agent.process.processIdentifier, SIGTERM)
        try FailureTrace.expectFailedBackup(agent.wait(), fixture.sandbox, target: "db", textfiles: fixture.textfiles,
                                            error: "127.0.0.1:\(pg.port)", status: 0)
    }

    // MARK: Drills

    /// Before the restore: no backup to restore.
    @Test func drillWithoutABackup() throws {
        let fixture = try Fixture(rawTarget: Self.commandTarget(["echo", "hello"]))
        let result = try fixture.run(["drill", "--scratch-dir", "\(fixture.sandbox.root)/scratch"])
        try FailureTrace.expectFailedDrill(result, fixture.sandbox, target: "files", textfiles: fixture.textfiles, reason: "no backup")
    }

    /// Before the restore: the secret key is not where `--key` says (a key problem, exit 4).
    @Test func drillWithoutItsKey() throws {
        let fixture = try Fixture(rawTarget: Self.commandTarget(["echo", "hello"]))
        try fixture.goodBackup()
        let result = try fixture.run(["drill", "--scratch-dir", "\(fixture.sandbox.root)/scratch",
                                      "--key", "\(fixture.sandbox.root)/gone.key"])
        try FailureTrace.expectFailedDrill(result, fixture.sandbox, target: "files", textfiles: fixture.textfiles,
                                           reason: "gone.key", status: 4)
    }

    /// During the verification: a restored PostgreSQL backup whose check query fails.
    @Test func drillFailingItsVerification() throws {
        let pg = try PostgresCluster.start(superuserPassword: "pg pass 42")
        try pg.sql("CREATE TABLE orders (id int); INSERT INTO orders SELECT generate_series(1, 10)")
        let target = PostgresFidelityTests.target(pg) + """
                drill:
                  checks:
                    - sql: "select count(*) from no_such_table"
                      expect: "10"

            """
        let fixture = try Fixture(rawTarget: target)
        try fixture.goodBackup(environment: ["DRCTL_TEST_PG_PASSWORD": pg.superuserPassword!])
        let result = try fixture.run(["drill", "--scratch-dir", "\(fixture.sandbox.root)/scratch"],
                                     environment: ["DRCTL_TEST_PG_PASSWORD": pg.superuserPassword!])
        try FailureTrace.expectFailedDrill(result, fixture.sandbox, target: "db", textfiles: fixture.textfiles, reason: "no_such_table")
    }
}
