import Foundation
import Logging
import Testing
import DrctlJobs
import DrctlPolicy
import DrctlTestSupport

/// A scheduled backup skipped because the previous one of its target was still running is told
/// to the policy's channels as `backup_missed` (the agent calls `ScheduledRunner.skipped`); a
/// skipped drill or prune counts in the metrics but notifies nobody.
@Suite struct BackupMissedNotificationTests {
    @Test func aSkippedBackupIsPostedAsMissed() async throws {
        let hook = try HTTPReceiver()
        let scratch = try LocalRepositoryPolicy("""
            targets:
              - name: nightly
                kind: command
                command: ["echo", "hello"]
                schedule: "0 3 * * *"
            notifications:
              - kind: webhook
                url: \(hook.url)/hooks/missed
            """)
        let policy = scratch.policy
        let runner = ScheduledRunner(policy: policy, keys: try KeyRing(policy: policy.repository.encryption),
                                     logger: Logger(label: "test"), interruption: Interruption(),
                                     metrics: AgentMetrics(policy: policy))
        let utc = TimeZone(identifier: "UTC")!
        let due = try #require(ISO8601DateFormatter().date(from: "2026-12-02T03:00:00Z"))
        let prune = ScheduledTask(target: "nightly", job: .prune, cron: try CronExpression("30 3 * * *"), timeZone: utc)
        runner.skipped(ScheduledRun(task: prune, scheduledFor: due, due: due))
        let backup = ScheduledTask(target: "nightly", job: .backup, cron: try CronExpression("0 3 * * *"), timeZone: utc)
        runner.skipped(ScheduledRun(task: backup, scheduledFor: due, due: due))

        let deadline = Date().addingTimeInterval(30)
        while hook.requests.isEmpty && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        try await Task.sleep(for: .milliseconds(300))   // a second (wrong) post would have arrived by now
        let requests = hook.requests
        #expect(requests.count == 1, "only the backup notifies: \(requests.map(\.body))")
        let request = try #require(requests.first)
        #expect(request.method == "POST" && request.path == "/hooks/missed")
        let payload = try #require(try JSONSerialization.jsonObject(with: Data(request.body.utf8)) as? [String: Any])
        #expect(payload["event"] as? String == "backup_missed", "\(payload)")
        let summary = payload["summary"] as? String ?? ""
        #expect(summary.contains("'nightly'") && summary.contains("2026-12-02T03:00:00") && summary.contains("still running"),
                "\(payload)")
        let metrics = runner.metrics.render()
        #expect(metrics.contains("drctl_agent_runs_total{job=\"backup\",target=\"nightly\",result=\"skipped\"} 1"), "\(metrics)")
        #expect(metrics.contains("drctl_agent_runs_total{job=\"prune\",target=\"nightly\",result=\"skipped\"} 1"), "\(metrics)")
    }
}
