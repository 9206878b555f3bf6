import Foundation
import Glibc
import Testing
import DrctlStorage

/// `drctl agent` as a daemon: catch-up runs at start, one run per target, /healthz and
/// /metrics, SIGTERM aborts a running backup (nothing committed) and exits 0 in the grace period.
@Suite struct AgentTests {
    /// A failure record of a run that started `age` seconds ago: history that makes the
    /// latest every-minute instant a missed one (docs/FORMAT.md, "Failure record").
    func writeFailureRecord(_ sandbox: Sandbox, target: String, age: TimeInterval) throws {
        let started = Date().addingTimeInterval(-age)
        let stamp = DateFormatter()
        stamp.locale = Locale(identifier: "en_US_POSIX")
        stamp.timeZone = TimeZone(identifier: "UTC")
        stamp.dateFormat = "yyyyMMdd'T'HHmmss.SSS'Z'"
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let id = "\(stamp.string(from: started))-0a0b0c"
        let folder = "\(sandbox.repository)/records/\(target)/failures"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try """
            {"error": "test history", "finished_at": "\(iso.string(from: started))", "format": "drctl-failure-record",
             "kind": "command", "regions": ["local"], "run_id": "\(id)", "started_at": "\(iso.string(from: started))",
             "target": "\(target)", "tool": {"name": "drctl", "version": "0.1.0"}, "version": 1}

            """.write(toFile: "\(folder)/\(id).json", atomically: true, encoding: .utf8)
    }

    func curl(_ url: String) throws -> Drctl.Result {
        try Command.run(["curl", "-s", "--max-time", "10", "-w", "\n%{http_code}", url])
    }

    @Test func catchUpBackupsMetricsAndCleanShutdown() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [
            ("fast", ["echo", "hello from the agent"]),
            ("slow", ["sh", "-c", "head -c 3000000 /dev/urandom; sleep 60"]),
        ])
        var policy = try String(contentsOfFile: sandbox.policyPath, encoding: .utf8)
        policy = policy.replacingOccurrences(of: "    kind: command\n", with: "    kind: command\n    schedule: \"* * * * *\"\n    objectives: {rpo: 1h30m}\n")
        policy += "\nagent:\n  listen: 127.0.0.1:0\n  catch_up: 1h\n  shutdown_grace: 15s\n"
        try policy.write(toFile: sandbox.policyPath, atomically: true, encoding: .utf8)
        #expect(try sandbox.drctl(["policy", "validate", sandbox.policyPath]).status == 0)
        for target in ["fast", "slow"] { try writeFailureRecord(sandbox, target: target, age: 150) }

        let agent = try RunningDrctl(["agent", "--policy", sandbox.policyPath])
        var stderr: String { agent.peekStderr() }
        #expect(eventually(within: 20) { stderr.contains("agent started") }, "\(stderr)")
        let listen = try #require(stderr.firstMatch(of: /listen=(127\.0\.0\.1:\d+)/)?.1)
        #expect(try curl("http://\(listen)/healthz").stdout == "ok\n\n200")

        // Both targets missed their latest instant: each runs once at start; the fast one commits.
        #expect(eventually(within: 30) { sandbox.files(under: "\(sandbox.repository)/manifests/fast").count == 1 }, "\(stderr)")
        #expect(stderr.components(separatedBy: "scheduled run starting").count - 1 == 2, "\(stderr)")
        #expect(stderr.contains("catch_up=true"))
        // The run's metrics are recorded once its aftermath is done, a moment after the commit.
        var metrics = ""
        #expect(try eventually(within: 30) {
            metrics = try curl("http://\(listen)/metrics").stdout
            return metrics.contains("drctl_agent_runs_total{job=\"backup\",target=\"fast\",result=\"success\"} 1")
        }, "\(metrics)")
        #expect(metrics.contains("drctl_backup_last_success_timestamp_seconds{target=\"fast\"}"), "\(metrics)")
        #expect(metrics.contains("drctl_objective_rpo_seconds{target=\"fast\"} 5400"), "\(metrics)")
        #expect(metrics.contains("drctl_backup_total{target=\"fast\",result=\"complete\"} 1"), "\(metrics)")
        // The region the agent's backup used, as one-shot runs and pushes show it (DrctlRegionDown).
        #expect(metrics.contains("drctl_region_up{target=\"fast\",region=\"local\"} 1"), "\(metrics)")

        // The slow backup is mid-stream: SIGTERM aborts it and the agent exits 0.
        #expect(eventually(within: 20) { !sandbox.files(under: "\(sandbox.repository)/data/slow").isEmpty }, "\(stderr)")
        let stopAt = Date()
        kill(agent.process.processIdentifier, SIGTERM)
        let result = agent.wait()
        #expect(result.status == 0, "\(result)")
        #expect(Date().timeIntervalSince(stopAt) < 15, "exit within the grace period")
        #expect(result.stderr.contains("stopping") && result.stderr.contains("agent stopped"), "\(result.stderr)")
        #expect(sandbox.files(under: "\(sandbox.repository)/manifests/slow").isEmpty, "an aborted backup is never committed")
        #expect(sandbox.files(under: "\(sandbox.repository)/data/slow").isEmpty, "its partial objects are removed")
        let list = try sandbox.drctl(["list", "--target", "slow"])
        #expect(!list.stdout.contains("slow "), "\(list)")
    }

    /// The report's history is its file: at start, last month's report not yet written and
    /// its schedule's latest instant within catch_up → written at once, in every form.
    @Test func scheduledReportCatchesUp() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("t", ["echo", "x"])])
        let reports = "\(sandbox.root)/reports"
        var policy = try String(contentsOfFile: sandbox.policyPath, encoding: .utf8)
        policy += "\nagent:\n  listen: 127.0.0.1:0\n  report_schedule: \"* * * * *\"\n  report_dir: \(reports)\n"
        try policy.write(toFile: sandbox.policyPath, atomically: true, encoding: .utf8)
        #expect(try sandbox.drctl(["backup"]).status == 0)
        let agent = try RunningDrctl(["agent", "--policy", sandbox.policyPath])
        let calendar = Calendar(identifier: .gregorian)
        var utc = calendar
        utc.timeZone = TimeZone(identifier: "UTC")!
        let previous = utc.date(byAdding: .month, value: -1, to: Date())!
        let month = String(format: "%04d-%02d", utc.component(.year, from: previous), utc.component(.month, from: previous))
        let names = ["md", "html", "json"].map { "drctl-report-\(month).\($0)" }
        #expect(eventually(within: 30) { Set((try? FileManager.default.contentsOfDirectory(atPath: reports)) ?? []) == Set(names) },
                "\(agent.peekStderr())")
        // Last month: no backup and no drill (the one backup is from today), and the report says so.
        let json = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: "\(reports)/drctl-report-\(month).json"))) as? [String: Any])
        #expect(json["month"] as? String == month, "\(json)")
        #expect((json["verdict"] as? String ?? "").hasPrefix("No drills in \(month)"), "\(json)")
        let targets = json["targets"] as? [[String: Any]] ?? []
        #expect(targets.count == 1 && targets.first?["name"] as? String == "t" && targets.first?["standing"] as? String == "no_drills",
                "\(targets)")
        let html = try String(contentsOfFile: "\(reports)/drctl-report-\(month).html", encoding: .utf8)
        #expect(html.contains("<html") && html.contains("no drills"), "the HTML form of the same report")
        kill(agent.process.processIdentifier, SIGTERM)
        #expect(agent.wait().status == 0)
    }

    /// A drill schedule whose latest instant came after the newest drill record: the agent
    /// drills the target at start, records the drill in the repository and serves its metrics.
    @Test func scheduledDrillCatchesUp() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("t", ["echo", "drill me"])])
        var policy = try String(contentsOfFile: sandbox.policyPath, encoding: .utf8)
        policy = policy.replacingOccurrences(of: "    kind: command\n", with: "    kind: command\n    drill: {schedule: \"* * * * *\"}\n")
        policy += "\nagent:\n  listen: 127.0.0.1:0\n  catch_up: 1h\n"
        try policy.write(toFile: sandbox.policyPath, atomically: true, encoding: .utf8)
        #expect(try sandbox.drctl(["policy", "validate", sandbox.policyPath]).status == 0)
        #expect(try sandbox.drctl(["backup"]).status == 0)
        let scratch = "\(sandbox.root)/scratch"
        #expect(try sandbox.drctl(["drill", "--scratch-dir", scratch]).status == 0)
        // That drill's record, moved 150 s back: the latest every-minute instant is now missed.
        let drills = "\(sandbox.repository)/records/t/drills"
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: drills).first)
        let past = Date().addingTimeInterval(-150)
        try RecordRewriter.rewrite(DrillRecord.self, at: "\(drills)/\(name)", region: sandbox.repository, keyFile: sandbox.keyPath) {
            ($0.startedAt, $0.finishedAt) = (past, past)
        }

        let agent = try RunningDrctl(["agent", "--policy", sandbox.policyPath], environment: ["DRCTL_DRILL_DIR": scratch])
        var stderr: String { agent.peekStderr() }
        #expect(eventually(within: 30) { stderr.contains("scheduled drill done") }, "\(stderr)")
        #expect(stderr.contains("catch_up=true") && stderr.contains("result=passed"), "\(stderr)")
        #expect(sandbox.files(under: drills).count == 2, "the scheduled drill is recorded")
        let listen = try #require(stderr.firstMatch(of: /listen=(127\.0\.0\.1:\d+)/)?.1)
        // Recorded once the run has returned, a moment after its log line.
        var metrics = ""
        #expect(try eventually(within: 30) {
            metrics = try curl("http://\(listen)/metrics").stdout
            return metrics.contains("drctl_agent_runs_total{job=\"drill\",target=\"t\",result=\"success\"} 1")
        }, "\(metrics)")
        #expect(metrics.contains("drctl_drill_total{target=\"t\",result=\"passed\"} 2"), "\(metrics)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: scratch)) ?? []).filter { $0 != ".templates" }.isEmpty,
                "the drill's scratch directory is gone")
        kill(agent.process.processIdentifier, SIGTERM)
        #expect(agent.wait().status == 0)
    }

    /// Two agents on one repository, both catching up the same instant: the target's lock lets
    /// exactly one back it up; the other skips that tick.
    @Test func twoAgentsMakeOneBackupPerTick() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("t", ["sh", "-c", "sleep 2; echo tick"])])
        var policy = try String(contentsOfFile: sandbox.policyPath, encoding: .utf8)
        policy = policy.replacingOccurrences(of: "    kind: command\n", with: "    kind: command\n    schedule: \"* * * * *\"\n")
        policy += "\nagent:\n  listen: 127.0.0.1:0\n"
        try policy.write(toFile: sandbox.policyPath, atomically: true, encoding: .utf8)
        try writeFailureRecord(sandbox, target: "t", age: 150)
        let agents = try (0..<2).map { _ in try RunningDrctl(["agent", "--policy", sandbox.policyPath]) }
        let settled = eventually(within: 30) {
            agents.allSatisfy { agent in
                let log = agent.peekStderr()
                return log.contains("scheduled backup done") || log.contains("another run holds the target")
            }
        }
        #expect(settled, "\(agents.map { $0.peekStderr() })")
        #expect(sandbox.files(under: "\(sandbox.repository)/manifests/t").count == 1, "exactly one backup for the tick")
        let logs = agents.map { $0.peekStderr() }
        #expect(logs.filter { $0.contains("scheduled backup done") }.count == 1, "\(logs)")
        #expect(logs.filter { $0.contains("another run holds the target") }.count == 1, "\(logs)")
        for agent in agents { kill(agent.process.processIdentifier, SIGTERM) }
        #expect(agents.map { $0.wait().status } == [0, 0])
    }

    /// prune_schedule prunes every target with a retention policy; a start within catch_up of
    /// an instant prunes once.
    @Test func scheduledPrune() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("t", ["echo", "x"])])
        var policy = try String(contentsOfFile: sandbox.policyPath, encoding: .utf8)
        policy = policy.replacingOccurrences(of: "    kind: command\n", with: "    kind: command\n    retention: {keep_last: 1}\n")
        policy += "\nagent:\n  listen: 127.0.0.1:0\n  prune_schedule: \"* * * * *\"\n"
        try policy.write(toFile: sandbox.policyPath, atomically: true, encoding: .utf8)
        for _ in 0..<3 { #expect(try sandbox.drctl(["backup"]).status == 0) }
        #expect(sandbox.files(under: "\(sandbox.repository)/manifests/t").count == 3)
        let agent = try RunningDrctl(["agent", "--policy", sandbox.policyPath])
        #expect(eventually(within: 30) { agent.peekStderr().contains("scheduled prune done") }, "\(agent.peekStderr())")
        #expect(sandbox.files(under: "\(sandbox.repository)/manifests/t").count == 1, "keep_last 1")
        #expect(agent.peekStderr().contains("removed=2"), "\(agent.peekStderr())")
        kill(agent.process.processIdentifier, SIGTERM)
        #expect(agent.wait().status == 0)
    }

    @Test func nothingToScheduleIsAPolicyError() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("t", ["echo", "x"])])
        let result = try sandbox.drctl(["agent"])
        #expect(result.status == 2 && result.stderr.contains("no target has a schedule"), "\(result)")
        var policy = try String(contentsOfFile: sandbox.policyPath, encoding: .utf8)
        policy += "\nagent:\n  listen: localhost:9187\n"
        try policy.write(toFile: sandbox.policyPath, atomically: true, encoding: .utf8)
        let invalid = try sandbox.drctl(["policy", "validate", sandbox.policyPath])
        #expect(invalid.status == 2 && invalid.stdout.contains("agent.listen: expected an IPv4 HOST:PORT"), "\(invalid)")
    }
}
