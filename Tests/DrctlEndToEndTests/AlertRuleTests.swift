import Foundation
import Testing
import DrctlTestSupport

/// The alert rules (deploy/prometheus/alerts.yaml) judged on what real runs wrote: each scenario
/// of deploy/prometheus/alerts.test.yaml is played with the drctl binary and `metrics: textfile:`,
/// its textfile directory kept after each step; scripts/textfile-to-promtool.py makes promtool's
/// input series of them, and `promtool test rules` runs the tests. A rule or panel on a metric
/// that no run writes fails, and so does a test that types a drctl series by hand.
@Suite struct AlertRuleTests {
    static let deploy = PostgresCluster.repoRoot.appendingPathComponent("deploy").path
    static let converter = PostgresCluster.repoRoot.appendingPathComponent("scripts/textfile-to-promtool.py").path

    /// The textfile directories of one scenario's steps: SCENARIOS/NAME/<test seconds>/*.prom
    /// and `taken`, when they were copied.
    struct Scenario {
        let directory: String

        init(_ name: String, in scenarios: String) throws {
            directory = "\(scenarios)/\(name)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }

        /// Keeps the textfiles as they are now, shown from `at` seconds of test time on.
        func step(at seconds: Int, textfiles: String) throws {
            let step = "\(directory)/\(seconds)"
            try FileManager.default.createDirectory(atPath: step, withIntermediateDirectories: true)
            for file in try FileManager.default.contentsOfDirectory(atPath: textfiles) where file.hasSuffix(".prom") {
                try FileManager.default.copyItem(atPath: "\(textfiles)/\(file)", toPath: "\(step)/\(file)")
            }
            try "\(Date().timeIntervalSince1970)".write(toFile: "\(step)/taken", atomically: true, encoding: .utf8)
        }
    }

    static func commandTarget(_ name: String, _ argv: [String], _ extra: String = "") -> String {
        "  - name: \(name)\n    kind: command\n    command: \(Sandbox.flowList(argv))\n" + extra
    }

    static func textfileMetrics(_ sandbox: Sandbox) throws -> (yaml: String, directory: String) {
        let directory = "\(sandbox.root)/textfiles"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return ("metrics:\n  textfile: \(directory)\n", directory)
    }

    /// One-shot backups only (no drill, no agent): app with an RPO objective, cache without.
    func backups(_ scenarios: String) throws {
        let scenario = try Scenario("backups", in: scenarios)
        let sandbox = try Sandbox()
        let metrics = try Self.textfileMetrics(sandbox)
        try sandbox.writePolicy(targets: [], rawTargets: Self.commandTarget("app", ["echo", "app"], "    objectives: {rpo: 1h, rto: 30m}\n")
            + Self.commandTarget("cache", ["echo", "cache"]) + metrics.yaml)
        let first = try sandbox.drctl(["backup"])
        try #require(first.status == 0, "\(first)")
        try scenario.step(at: 0, textfiles: metrics.directory)
        let again = try sandbox.drctl(["backup", "--target", "app"])
        try #require(again.status == 0, "\(again)")
        try scenario.step(at: 100 * 60, textfiles: metrics.directory)
    }

    /// Two regions; at the second step one is gone and one target's command fails.
    func failures(_ scenarios: String) throws {
        let scenario = try Scenario("failures", in: scenarios)
        let sandbox = try Sandbox()
        let metrics = try Self.textfileMetrics(sandbox)
        let ok = "\(sandbox.root)/ok"
        let euWest = "\(sandbox.root)/eu-west"
        #expect(FileManager.default.createFile(atPath: ok, contents: Data()))
        try sandbox.writePolicy(targets: [], regions: [("local", sandbox.repository), ("eu-west", euWest)],
                                rawTargets: Self.commandTarget("app", ["echo", "app"])
                                    + Self.commandTarget("flaky", ["sh", "-c", "test -e \(ok) && echo flaky"]) + metrics.yaml)
        let good = try sandbox.drctl(["backup"])
        try #require(good.status == 0, "\(good)")
        try scenario.step(at: 0, textfiles: metrics.directory)
        try FileManager.default.removeItem(atPath: ok)
        try FileManager.default.moveItem(atPath: euWest, toPath: "\(euWest).away")
        #expect(FileManager.default.createFile(atPath: euWest, contents: Data("a file where the region was".utf8)))
        let bad = try sandbox.drctl(["backup"])
        try #require(bad.status != 0 && bad.stderr.contains("flaky"), "\(bad)")
        try scenario.step(at: 15 * 60, textfiles: metrics.directory)
    }

    /// A target whose very first backup fails, at 30m: its failure counter is born at 1, so
    /// `increase()` alone never sees it rise.
    func firstFailure(_ scenarios: String) throws {
        let scenario = try Scenario("first-failure", in: scenarios)
        let sandbox = try Sandbox()
        let metrics = try Self.textfileMetrics(sandbox)
        try sandbox.writePolicy(targets: [], rawTargets: Self.commandTarget("fresh", ["sh", "-c", "exit 3"]) + metrics.yaml)
        let failed = try sandbox.drctl(["backup"])
        try #require(failed.status != 0 && failed.stderr.contains("fresh"), "\(failed)")
        try scenario.step(at: 30 * 60, textfiles: metrics.directory)
    }

    /// PostgreSQL drills: one over both objectives; one that passes and then one that fails;
    /// a target whose first drill fails.
    func drills(_ scenarios: String) throws {
        let pg = try PostgresCluster.start(superuserPassword: "alert pass")
        let environment = ["DRCTL_TEST_PG_PASSWORD": "alert pass"]
        try pg.sql("CREATE DATABASE app")
        try pg.sql("CREATE TABLE orders (id int); INSERT INTO orders SELECT generate_series(1, 10);", database: "app")
        func play(_ name: String, target: String, objectives: String, checks: [(sql: String, expect: String)]) throws {
            let scenario = try Scenario(name, in: scenarios)
            let sandbox = try Sandbox()
            let metrics = try Self.textfileMetrics(sandbox)
            func writePolicy(_ check: (sql: String, expect: String)) throws {
                try sandbox.writePolicy(targets: [], rawTargets: PostgresFidelityTests.target(pg, name: target, databases: ["app"]) + """
                        objectives: \(objectives)
                        drill:
                          checks:
                            - sql: "\(check.sql)"
                              expect: "\(check.expect)"
                    \(metrics.yaml)
                    """)
            }
            try writePolicy(checks[0])
            let backup = try Drctl.run(["backup", "--policy", sandbox.policyPath], environment: environment)
            try #require(backup.status == 0, "\(backup)")
            // The newest recoverable point is more than a second old when the drill starts.
            Thread.sleep(forTimeInterval: 1.1)
            for (index, check) in checks.enumerated() {
                try writePolicy(check)
                let drill = try Drctl.run(["drill", "--policy", sandbox.policyPath, "--scratch-dir", "\(sandbox.root)/scratch"],
                                          environment: environment)
                try #require(drill.status != 0 || index == 0, "\(drill)")
                try scenario.step(at: index * 3600, textfiles: metrics.directory)
            }
        }
        try play("drill-objectives", target: "db", objectives: "{rpo: 1s, rto: 1s}",
                 checks: [("select count(*) from orders, pg_sleep(1.2)", "10")])
        try play("drill-failed", target: "main-db", objectives: "{rpo: 1h, rto: 30m}",
                 checks: [("select count(*) from orders", "10"), ("select count(*) from orders", "11")])
        try play("drill-first-failed", target: "new-db", objectives: "{rpo: 1h, rto: 30m}",
                 checks: [("select count(*) from orders", "11")])
    }

    /// A physical target archiving through wal-push (RPO 15m): a base backup and a segment
    /// archived at 0m, the next segment at 40m.
    func walArchive(_ scenarios: String) throws {
        let scenario = try Scenario("wal-archive", in: scenarios)
        let wal = try PointInTimeRecoveryTests.archiving()
        let metrics = try Self.textfileMetrics(wal.sandbox)
        try wal.sandbox.writePolicy(targets: [], rawTargets: PhysicalBackupTests.target(wal.cluster, name: "main")
            + "    objectives: {rpo: 15m, rto: 1h}\n" + metrics.yaml)
        try WalArchiving.giveToPostgres(wal.sandbox.root)
        let backup = try wal.drctlAsPostgres(["backup"])
        try #require(backup.status == 0, "\(backup)")
        try wal.switchSegment()
        try #require(try wal.archiverCounts().failed == 0)
        try scenario.step(at: 0, textfiles: metrics.directory)
        try wal.switchSegment()
        try scenario.step(at: 40 * 60, textfiles: metrics.directory)
    }

    /// `work`/rules.yaml: one group of `rules`.
    static func writeRules(_ rules: [(alert: String, expr: String)], in work: String) throws {
        try ("groups:\n  - name: t\n    rules:\n" + rules.map { "      - alert: \($0.alert)\n        expr: \($0.expr)\n" }.joined())
            .write(toFile: "\(work)/rules.yaml", atomically: true, encoding: .utf8)
    }

    /// `work`/test.yaml: one test of scenario `scenario` (every `interval`) expecting `alert` quiet at `time`.
    static func writeQuietTest(of alert: String, on scenario: String, every interval: String, at time: String, in work: String) throws {
        try """
            rule_files: [rules.yaml]
            tests:
              - interval: \(interval)
                textfiles: \(scenario)
                alert_rule_test: [{eval_time: \(time), alertname: \(alert), exp_alerts: []}]
            """.write(toFile: "\(work)/test.yaml", atomically: true, encoding: .utf8)
    }

    static func convert(template: String, scenarios: String, out: String, dashboard: String? = nil) throws -> Drctl.Result {
        try Command.run(["python3", converter, template, scenarios, out] + (dashboard.map { ["--dashboard", $0] } ?? []))
    }

    @Test func alertRulesFireOnWhatRealRunsWrote() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-alerts-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: work) }
        let scenarios = "\(work)/scenarios"
        try backups(scenarios)
        try failures(scenarios)
        try firstFailure(scenarios)
        try drills(scenarios)
        try walArchive(scenarios)
        let out = "\(work)/alerts.test.yaml"
        let converted = try Self.convert(template: "\(Self.deploy)/prometheus/alerts.test.yaml", scenarios: scenarios, out: out,
                                         dashboard: "\(Self.deploy)/grafana/drctl.json")
        try #require(converted.status == 0, "\(converted)")
        let promtool = try Command.run(["promtool", "test", "rules", out])
        #expect(promtool.status == 0, "\(promtool)")
    }

    /// A slow run (here its textfile copied 20 s after it wrote its timestamps, as under
    /// ThreadSanitizer or load) still lands on its step: the tests' times are whole minutes, so
    /// a run's own seconds do not move what the rules see, and "1h 6m 0s old" stays exact.
    @Test func aSlowRunsTimestampsLandOnItsStep() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-alerts-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: work) }
        let series = "drctl_backup_last_success_timestamp_seconds{target=\"app\"}"
        for (at, written, taken) in [(0, 1_000_000.0, 1_000_020.4), (600, 1_000_090.0, 1_000_090.3)] {
            let step = "\(work)/scenarios/slow/\(at)"
            try FileManager.default.createDirectory(atPath: step, withIntermediateDirectories: true)
            try "\(series) \(written)\n".write(toFile: "\(step)/drctl_backup_app.prom", atomically: true, encoding: .utf8)
            try "\(taken)".write(toFile: "\(step)/taken", atomically: true, encoding: .utf8)
        }
        try Self.writeRules([("Late", "time() - drctl_backup_last_success_timestamp_seconds > 3600")], in: work)
        try Self.writeQuietTest(of: "Late", on: "slow", every: "5m", at: "15m", in: work)
        let converted = try Self.convert(template: "\(work)/test.yaml", scenarios: "\(work)/scenarios", out: "\(work)/out.yaml")
        try #require(converted.status == 0, "\(converted)")
        let out = try String(contentsOfFile: "\(work)/out.yaml", encoding: .utf8)
        #expect(out.contains("values: 0.0 0.0 600.0 600.0 600.0"), "\(out)")
    }

    /// The checks can fail: a rule on a metric no run writes, and a drctl series typed by hand.
    @Test func aRuleOnAMetricNoRunWritesAndATypedSeriesFail() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-alerts-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: work) }
        let scenario = try Scenario("backups", in: "\(work)/scenarios")
        let sandbox = try Sandbox()
        let metrics = try Self.textfileMetrics(sandbox)
        try sandbox.writePolicy(targets: [], rawTargets: Self.commandTarget("app", ["echo", "app"]) + metrics.yaml)
        try #require(try sandbox.drctl(["backup"]).status == 0)
        try scenario.step(at: 0, textfiles: metrics.directory)
        try Self.writeRules([("Written", "drctl_backup_total > 100"), ("NeverWritten", "drctl_replication_lag_seconds > 60")], in: work)
        try Self.writeQuietTest(of: "Written", on: "backups", every: "1m", at: "1m", in: work)
        let unwritten = try Self.convert(template: "\(work)/test.yaml", scenarios: "\(work)/scenarios", out: "\(work)/out.yaml")
        #expect(unwritten.status == 1 && unwritten.stderr.contains("drctl_replication_lag_seconds (rules.yaml: NeverWritten)"),
                "\(unwritten)")

        try Self.writeRules([("Written", "drctl_backup_total > 100")], in: work)
        try """
            rule_files: [rules.yaml]
            tests:
              - interval: 1m
                input_series:
                  - series: 'drctl_backup_total{target="app",result="failed"}'
                    values: '0 1 1'
                alert_rule_test: [{eval_time: 1m, alertname: Written, exp_alerts: []}]
            """.write(toFile: "\(work)/test.yaml", atomically: true, encoding: .utf8)
        let typed = try Self.convert(template: "\(work)/test.yaml", scenarios: "\(work)/scenarios", out: "\(work)/out.yaml")
        #expect(typed.status == 1 && typed.stderr.contains("types drctl series by hand"), "\(typed)")
    }
}
