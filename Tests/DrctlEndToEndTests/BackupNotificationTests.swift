import Foundation
import Testing
import DrctlSources
import DrctlTestSupport

/// Backups tell the policy's channels when they fail, are degraded and recover, shaped for each
/// kind (drctl JSON, Slack, Alertmanager); an unreachable channel never fails a backup.
@Suite struct BackupNotificationTests {
    func json(_ body: String) -> Any? { try? JSONSerialization.jsonObject(with: Data(body.utf8)) }

    @Test func failedThenRecoveredReachesEveryKindOfChannel() throws {
        let sandbox = try Sandbox()
        let receiver = try HTTPReceiver()
        let flag = "\(sandbox.root)/fail"
        try #require(FileManager.default.createFile(atPath: flag, contents: nil))
        try sandbox.writePolicy(targets: [("t", ["sh", "-c", "test -e '\(flag)' && { echo 'disk on fire' >&2; exit 3; }; echo ok"])],
                                rawTargets: """
            notifications:
              - {kind: webhook, url: \(receiver.url)/hook}
              - {kind: slack, url: \(receiver.url)/slack}
              - {kind: alertmanager, url: \(receiver.url)/api/v2/alerts}
            """)
        let failed = try sandbox.drctl(["backup", "--log-level", "debug"])
        #expect(failed.status == 1, "\(failed)")
        let failure = receiver.requests
        #expect(failure.map(\.path) == ["/hook", "/slack", "/api/v2/alerts"], "\(failure.map(\.path)) \(failed)")
        let hook = try #require(json(failure[0].body) as? [String: Any])
        let recordID = try #require(sandbox.files(under: "\(sandbox.repository)/records/t/failures").first?.replacingOccurrences(of: ".json", with: ""))
        #expect(hook["event"] as? String == "backup_failed" && hook["target"] as? String == "t", "\(hook)")
        #expect(hook["run_id"] as? String == recordID, "the failed run's id: \(hook)")
        #expect((hook["error"] as? String ?? "").contains("disk on fire"), "\(hook)")
        let slack = try #require(json(failure[1].body) as? [String: String])
        #expect(slack.keys.sorted() == ["text"] && slack["text"]!.contains("backup of 't' failed"), "\(slack)")
        let alerts = try #require(json(failure[2].body) as? [[String: Any]])
        let labels = alerts.first?["labels"] as? [String: String]
        #expect(labels?["alertname"] == "DrctlBackupFailed" && labels?["target"] == "t" && labels?["severity"] == "critical", "\(alerts)")
        #expect(alerts.first?["endsAt"] == nil && alerts.first?["startsAt"] is String, "\(alerts)")

        try FileManager.default.removeItem(atPath: flag)
        let recovered = try sandbox.drctl(["backup", "--log-level", "debug"])
        #expect(recovered.status == 0)
        let recovery = Array(receiver.requests.dropFirst(3))
        #expect(recovery.map(\.path) == ["/hook", "/slack", "/api/v2/alerts"], "\(recovery.map(\.path)) \(recovered)")
        #expect((json(recovery[0].body) as? [String: Any])?["event"] as? String == "backup_recovered")
        let resolved = try #require((json(recovery[2].body) as? [[String: Any]])?.first)
        #expect((resolved["labels"] as? [String: String]) == labels, "the same alert, resolved")
        #expect(resolved["endsAt"] is String, "\(resolved)")

        #expect(try sandbox.drctl(["backup"]).status == 0)
        #expect(receiver.requests.count == 6, "a plain success notifies nobody")
    }

    @Test func degradedBackupIsNotified() throws {
        let sandbox = try Sandbox()
        let receiver = try HTTPReceiver()
        let broken = "\(sandbox.root)/not-a-dir"
        try #require(FileManager.default.createFile(atPath: broken, contents: Data("x".utf8)))
        try sandbox.writePolicy(targets: [("t", ["echo", "hello"])], regions: [("good", sandbox.repository), ("broken", "\(broken)/repo")],
                                rawTargets: "notifications:\n  - {kind: webhook, url: \(receiver.url)/hook}\n")
        let backup = try sandbox.drctl(["backup"])
        #expect(backup.status == 0 && backup.stdout.contains("degraded"), "\(backup)")
        let hook = try #require(receiver.requests.first.flatMap { json($0.body) as? [String: Any] })
        #expect(hook["event"] as? String == "backup_degraded" && (hook["summary"] as? String ?? "").contains("good"), "\(hook)")
    }

    @Test func anUnreachableChannelNeverFailsABackup() throws {
        let sandbox = try Sandbox()
        let port = try LoopbackPort.free()
        try sandbox.writePolicy(targets: [("t", ["sh", "-c", "exit 9"])],
                                rawTargets: "notifications:\n  - {kind: slack, url: http://127.0.0.1:\(port)/nobody}\n")
        let started = Date()
        let failed = try sandbox.drctl(["backup", "--log-level", "debug"])
        #expect(failed.status == 1, "the backup's own failure, nothing else: \(failed)")
        #expect(failed.stderr.contains("notification not delivered") && failed.stderr.contains("kind=slack"), "\(failed)")
        #expect(Date().timeIntervalSince(started) < 30, "refused connections are retried briefly, not for long")
    }
}
