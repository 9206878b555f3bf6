import Foundation
import Glibc
import Testing
import DrctlSources
import DrctlTestSupport

/// `drctl drill` against real servers: a PostgreSQL logical and a Redis backup restored into
/// scratch instances drctl starts and tears down, verified, timed, recorded in the repository.
@Suite struct DrillTests {
    static let phases = ["select", "start_instance", "fetch", "decrypt_decompress", "load", "verify", "teardown"]

    /// A cluster with two databases and a few tables, backed up once; the policy's drill
    /// section is `drill`, its objectives `objectives`.
    struct PostgresFixture {
        let sandbox: Sandbox
        let pg: PostgresCluster
        var scratch: String { "\(sandbox.root)/scratch" }
        var textfiles: String { "\(sandbox.root)/textfiles" }
        var environment: [String: String] { ["DRCTL_TEST_PG_PASSWORD": pg.superuserPassword!] }

        init() throws {
            sandbox = try Sandbox()
            pg = try PostgresCluster.start(superuserPassword: "drill pass 7")
            try FileManager.default.createDirectory(atPath: "\(sandbox.root)/textfiles", withIntermediateDirectories: true)
            try pg.sql("CREATE DATABASE app")
            try pg.sql("""
                CREATE TABLE public.orders (id serial PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now(), total numeric);
                INSERT INTO public.orders (total) SELECT i FROM generate_series(1, 2500) i;
                CREATE SCHEMA crm;
                CREATE TABLE crm.customers (id int, name text);
                INSERT INTO crm.customers SELECT i, 'c' || i FROM generate_series(1, 77) i;
                """, database: "app")
            try writePolicy(checks: [("select count(*) from orders", "2500")], objectives: "{rpo: 1h, rto: 10m}")
            let backup = try Drctl.run(["backup", "--policy", sandbox.policyPath], environment: environment)
            guard backup.status == 0 else { throw Command.ShellFailed(script: "backup", result: backup) }
        }

        func writePolicy(checks: [(String, String)], objectives: String, into: String? = nil) throws {
            let checkLines = checks.map { "        - sql: \"\($0.0)\"\n          expect: \"\($0.1)\"" }.joined(separator: "\n")
            try sandbox.writePolicy(targets: [], rawTargets: PostgresFidelityTests.target(pg) + """
                    objectives: \(objectives)
                    drill:
                \(into.map { "      into: \($0)" } ?? "")
                      checks:
                \(checkLines)
                metrics:
                  textfile: \(textfiles)
                """)
        }

        func drill(_ extra: [String] = []) throws -> (Drctl.Result, [String: Any]) {
            let result = try Drctl.run(["drill", "--policy", sandbox.policyPath, "--json", "--scratch-dir", scratch] + extra,
                                       environment: environment)
            let records = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [[String: Any]]
            return (result, records?.first ?? [:])
        }
    }

    @Test func postgresDrillPassesFailsOnABadCheckAndMissesAnRTOObjective() throws {
        let fixture = try PostgresFixture()
        let (passed, record) = try fixture.drill()
        #expect(passed.status == 0, "\(passed)")
        #expect(record["result"] as? String == "passed", "\(passed)")
        #expect(phaseNames(record) == Self.phases, "\(record)")
        #expect((record["rto_seconds"] as? Double ?? 0) > 0)
        #expect((record["rpo_seconds"] as? Double ?? -1) >= 0)
        #expect((record["restored_bytes"] as? Int ?? 0) > 0 && (record["throughput_bytes_per_second"] as? Double ?? 0) > 0)
        let checks = record["checks"] as? [[String: Any]] ?? []
        #expect(checks.contains { $0["name"] as? String == "rows app.public.orders" && $0["actual"] as? String == "2500" }, "\(checks)")
        #expect(checks.contains { $0["name"] as? String == "rows app.crm.customers" && $0["actual"] as? String == "77" }, "\(checks)")
        #expect(checks.contains { $0["name"] as? String == "sql: select count(*) from orders" && $0["passed"] as? Bool == true })
        #expect(checks.allSatisfy { $0["passed"] as? Bool == true }, "\(checks)")
        // The record is in the repository, as printed.
        let drillID = try #require(record["drill_id"] as? String)
        let stored = "\(fixture.sandbox.repository)/records/db/drills/\(drillID).json"
        #expect(FileManager.default.fileExists(atPath: stored))
        expectNothingLeft(fixture.scratch)

        // A check whose result is not the expected one fails the drill, and says which.
        try fixture.writePolicy(checks: [("select count(*) from orders", "2501")], objectives: "{rpo: 1h, rto: 10m}")
        let (failed, failedRecord) = try fixture.drill()
        #expect(failed.status == 1, "\(failed)")
        #expect(failedRecord["result"] as? String == "failed")
        #expect(failedRecord["rto_seconds"] == nil, "a failed drill never reached a verified instance")
        let reasons = failedRecord["reasons"] as? [String] ?? []
        #expect(reasons.contains { $0.contains("select count(*) from orders") && $0.contains("2501") && $0.contains("2500") }, "\(reasons)")
        // A query that errors fails it too.
        try fixture.writePolicy(checks: [("select count(*) from no_such_table", "0")], objectives: "{rpo: 1h, rto: 10m}")
        let (broken, brokenRecord) = try fixture.drill()
        #expect(broken.status == 1, "\(broken)")
        #expect((brokenRecord["reasons"] as? [String] ?? []).contains { $0.contains("no_such_table") }, "\(brokenRecord)")
        expectNothingLeft(fixture.scratch)

        // An RTO objective below the measured RTO: restored and verified, objective missed (exit 7).
        // (This small database restores in under a second, the smallest objective a policy can
        // state: the check sleeps to take the RTO past it.)
        try fixture.writePolicy(checks: [("select (select count(*) from orders) from pg_sleep(1.2)", "2500")],
                                objectives: "{rpo: 1h, rto: 1s}")
        let (missed, missedRecord) = try fixture.drill()
        #expect(missed.status == 7, "\(missed)")
        #expect(missedRecord["result"] as? String == "objectives_missed", "\(missedRecord)")
        #expect((missedRecord["reasons"] as? [String] ?? []).contains { $0.contains("RTO") && $0.contains("objective") })
        #expect((missedRecord["objectives"] as? [String: Any])?["rto_seconds"] as? Double == 1)
        // ... and in the metrics: the last RTO over the objective, the drill counted as objectives_missed.
        let metrics = parseExposition(try String(contentsOfFile: "\(fixture.textfiles)/drctl_db_drill.prom", encoding: .utf8))
        let objectives = parseExposition(try String(contentsOfFile: "\(fixture.textfiles)/drctl_db_objectives.prom", encoding: .utf8))
        #expect(objectives["drctl_objective_rto_seconds{target=\"db\"}"] == 1, "\(objectives)")
        #expect((metrics["drctl_drill_last_rto_seconds{target=\"db\"}"] ?? 0) > 1)
        #expect(metrics["drctl_drill_total{target=\"db\",result=\"objectives_missed\"}"] == 1)
        #expect(metrics["drctl_drill_total{target=\"db\",result=\"passed\"}"] == 1)
        #expect(metrics["drctl_drill_total{target=\"db\",result=\"failed\"}"] == 2)
        let human = try Drctl.run(["drill", "--policy", fixture.sandbox.policyPath, "--scratch-dir", fixture.scratch],
                                  environment: fixture.environment)
        #expect(human.status == 7 && human.stdout.contains("objectives_missed") && human.stdout.contains("reason: RTO"), "\(human)")
        expectNothingLeft(fixture.scratch)
    }

    @Test func drillIntoAServerNamedInThePolicyButNeverTheSourceItself() throws {
        let fixture = try PostgresFixture()
        let other = try PostgresCluster.start(superuserPassword: "other pass")
        var environment = fixture.environment
        environment["DRCTL_TEST_INTO_PASSWORD"] = "other pass"
        let check = [("select count(*) from crm.customers", "77")]
        try fixture.writePolicy(checks: check, objectives: "{rto: 10m}",
                                into: "{host: 127.0.0.1, port: \(other.port), user: postgres, password: {env: DRCTL_TEST_INTO_PASSWORD}}")
        let drill = try Drctl.run(["drill", "--policy", fixture.sandbox.policyPath, "--json", "--scratch-dir", fixture.scratch],
                                  environment: environment)
        #expect(drill.status == 0, "\(drill)")
        let record = ((try? JSONSerialization.jsonObject(with: Data(drill.stdout.utf8))) as? [[String: Any]])?.first ?? [:]
        #expect(record["result"] as? String == "passed", "\(record)")
        #expect(!phaseNames(record).contains("start_instance"), "no scratch instance: \(record)")
        #expect(try other.sql("SELECT count(*) FROM pg_database WHERE datname = 'app'") == "0", "the drill's database was dropped")

        // The target's own server, however it is spelled, is refused before anything is written.
        try fixture.writePolicy(checks: check, objectives: "{rto: 10m}",
                                into: "{host: localhost, port: \(fixture.pg.port), user: postgres, password: {env: DRCTL_TEST_PG_PASSWORD}}")
        try fixture.pg.sql("INSERT INTO crm.customers VALUES (78, 'after the backup')", database: "app")
        let refused = try Drctl.run(["drill", "--policy", fixture.sandbox.policyPath, "--scratch-dir", fixture.scratch],
                                    environment: environment)
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.stdout.contains("refusing to drill target 'db' into localhost:\(fixture.pg.port)"), "\(refused)")
        #expect(try fixture.pg.sql("SELECT count(*) FROM crm.customers", database: "app") == "78", "production untouched")
        expectNothingLeft(fixture.scratch)
    }

    @Test func corruptedBackupFailsAndSaysWhy() throws {
        let fixture = try PostgresFixture()
        let data = "\(fixture.sandbox.repository)/data/db"
        let object = try #require(fixture.sandbox.files(under: data).first { $0.hasSuffix("app.dump") })
        let path = "\(data)/\(object)"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: path))
        let (result, record) = try fixture.drill()
        #expect(result.status == 1, "\(result)")
        #expect(record["result"] as? String == "failed")
        let reasons = (record["reasons"] as? [String] ?? []).joined(separator: " ")
        #expect(reasons.contains("app.dump") && (reasons.contains("authentication") || reasons.contains("SHA-256")), "\(reasons)")
        #expect(phaseNames(record).contains("start_instance") && phaseNames(record).last == "teardown", "\(record)")
        expectNothingLeft(fixture.scratch)
    }

    @Test func aKilledDrillIsCleanedUpByTheNextOne() throws {
        let fixture = try PostgresFixture()
        // Started and reaped with posix_spawn/waitpid (ChildProcess): this test SIGKILLs it.
        let running = try ChildProcess(argv: [Drctl.binary, "drill", "--policy", fixture.sandbox.policyPath,
                                              "--scratch-dir", fixture.scratch], environment: .inherited(adding: fixture.environment))
        // Kill drctl as soon as its scratch server runs.
        var postmaster: pid_t?
        let started = eventually(within: 60) {
            guard let drill = drillDirectories(fixture.scratch).first,
                  let text = try? String(contentsOfFile: "\(fixture.scratch)/\(drill)/postgres/data/postmaster.pid", encoding: .utf8),
                  let pid = text.split(separator: "\n").first.flatMap({ pid_t($0) }), kill(pid, 0) == 0 else { return false }
            postmaster = pid
            return true
        }
        #expect(started, "no scratch server appeared")
        kill(running.pid, SIGKILL)
        #expect(running.wait() == .killed(signal: SIGKILL))
        let server = try #require(postmaster)
        #expect(kill(server, 0) == 0, "the scratch server outlives a killed drctl (the next drill must stop it)")
        #expect(!processes(under: fixture.scratch).isEmpty)

        let (next, record) = try fixture.drill()
        #expect(next.status == 0, "\(next)")
        #expect(record["result"] as? String == "passed")
        #expect(next.stderr.contains("removed the scratch instance of an interrupted drill"), "\(next)")
        #expect(eventually(within: 10) { kill(server, 0) != 0 }, "the stale scratch server was stopped")
        expectNothingLeft(fixture.scratch)
    }

    @Test func aTerminatedDrillTearsDownAndIsRecordedAsFailed() throws {
        let fixture = try PostgresFixture()
        let running = try ChildProcess(argv: [Drctl.binary, "drill", "--policy", fixture.sandbox.policyPath,
                                              "--scratch-dir", fixture.scratch, "--json"], environment: .inherited(adding: fixture.environment))
        let started = eventually(within: 60) {
            guard let drill = drillDirectories(fixture.scratch).first else { return false }
            return FileManager.default.fileExists(atPath: "\(fixture.scratch)/\(drill)/postgres/data/postmaster.pid")
        }
        #expect(started, "no scratch server appeared")
        kill(running.pid, SIGTERM)
        #expect(running.wait() == .exited(code: 143))
        let records = fixture.sandbox.files(under: "\(fixture.sandbox.repository)/records/db/drills")
        #expect(records.count == 1)
        let stored = try String(contentsOfFile: "\(fixture.sandbox.repository)/records/db/drills/\(records.first ?? "")", encoding: .utf8)
        #expect(stored.contains("\"result\" : \"failed\"") && stored.contains("SIGTERM"), "\(stored)")
        expectNothingLeft(fixture.scratch)
    }

    @Test func theInitdbTemplateIsBuiltOnceAndRebuiltWhenStale() throws {
        let fixture = try PostgresFixture()
        let (first, _) = try fixture.drill()
        #expect(first.status == 0, "\(first)")
        let templates = "\(fixture.scratch)/.templates"
        let template = try #require(try FileManager.default.contentsOfDirectory(atPath: templates).first { $0.hasPrefix("postgres-") })
        let stamp = "\(templates)/\(template)/stamp"
        let inode = { (path: String) -> UInt64? in
            (try? FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? UInt64) ?? nil
        }
        let built = try #require(inode("\(templates)/\(template)/data/PG_VERSION"))
        #expect(try String(contentsOfFile: stamp, encoding: .utf8).contains("initdb (PostgreSQL)"))
        #expect(!FileManager.default.fileExists(atPath: "\(templates)/\(template)/data/postmaster.pid"), "a template is never started")

        let (second, record) = try fixture.drill()
        #expect(second.status == 0 && record["result"] as? String == "passed", "\(second)")
        #expect(inode("\(templates)/\(template)/data/PG_VERSION") == built, "the second drill copied the same template")

        // A template made by other binaries (a PostgreSQL upgrade), and a build a killed drctl
        // left behind: the next drill builds a fresh template and removes the leftover.
        try "initdb (PostgreSQL) 14.0\n/nowhere\n".write(toFile: stamp, atomically: false, encoding: .utf8)
        let abandoned = "\(templates)/.build-deadbeef"
        try FileManager.default.createDirectory(atPath: "\(abandoned)/data", withIntermediateDirectories: true)
        try "999999 1\n".write(toFile: "\(abandoned)/owner", atomically: false, encoding: .utf8)
        let (third, rebuilt) = try fixture.drill()
        #expect(third.status == 0 && rebuilt["result"] as? String == "passed", "\(third)")
        #expect(inode("\(templates)/\(template)/data/PG_VERSION") != built, "a stale template is rebuilt")
        #expect(try String(contentsOfFile: stamp, encoding: .utf8).contains("/usr/lib/postgresql/"))
        expectNothingLeft(fixture.scratch)
    }

    @Test func redisDrillPasses() throws {
        let sandbox = try Sandbox()
        let redis = try RedisServer(password: "drill redis")
        try redis.cli("DEBUG", "POPULATE", "3000", "key", "50")
        try redis.cli(["DEBUG", "POPULATE", "40", "other", "10"], db: 3)
        try sandbox.writePolicy(targets: [], rawTargets: RedisTargetTests().policyTarget(redis) + "    objectives: {rpo: 1h, rto: 10m}\n")
        let environment = ["DRCTL_TEST_REDIS_PASSWORD": redis.password!]
        let backup = try Drctl.run(["backup", "--policy", sandbox.policyPath], environment: environment)
        #expect(backup.status == 0, "\(backup)")
        let scratch = "\(sandbox.root)/scratch"
        let drill = try Drctl.run(["drill", "--policy", sandbox.policyPath, "--json", "--scratch-dir", scratch], environment: environment)
        #expect(drill.status == 0, "\(drill)")
        let record = ((try? JSONSerialization.jsonObject(with: Data(drill.stdout.utf8))) as? [[String: Any]])?.first ?? [:]
        #expect(record["result"] as? String == "passed", "\(drill)")
        #expect(Set(phaseNames(record)) == Set(Self.phases), "\(record)")
        let checks = record["checks"] as? [[String: Any]] ?? []
        #expect(checks.contains { $0["name"] as? String == "keys db0" && $0["actual"] as? String == "3000" }, "\(checks)")
        #expect(checks.contains { $0["name"] as? String == "keys db3" && $0["actual"] as? String == "40" }, "\(checks)")
        expectNothingLeft(scratch)
    }

    func phaseNames(_ record: [String: Any]) -> [String] {
        (record["phases"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
    }

    /// The scratch root's entries other than the PostgreSQL templates drills copy.
    func drillDirectories(_ scratch: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: scratch)) ?? []).filter { $0 != ".templates" }
    }

    /// The scratch root holds no drill directory, the templates directory no half-built or
    /// stale template, and no process runs from the root.
    func expectNothingLeft(_ scratch: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let left = drillDirectories(scratch)
        let templates = ((try? FileManager.default.contentsOfDirectory(atPath: "\(scratch)/.templates")) ?? [])
            .filter { $0.hasPrefix(".") }
        #expect(templates.isEmpty, "left in the templates directory: \(templates)", sourceLocation: sourceLocation)
        #expect(left.isEmpty, "left in the scratch root: \(left)", sourceLocation: sourceLocation)
        #expect(processes(under: scratch).isEmpty, "processes still running from the scratch root", sourceLocation: sourceLocation)
    }

    /// Processes whose working directory or command line is under `path` (PostgreSQL runs in
    /// its data directory, redis-server in its --dir).
    func processes(under path: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(pid_t.init).filter { pid in
            let cwd = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd")) ?? ""
            let command = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline").map {
                String(decoding: $0.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            } ?? ""
            return cwd.hasPrefix(path) || command.contains(path)
        }
    }
}
