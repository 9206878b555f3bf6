import Foundation
import Testing
import DrctlTestSupport

/// A drill that fails (or misses an objective) is POSTed as JSON to the policy's webhooks,
/// retried when the receiver errs; a passing drill sends nothing, and delivery never changes
/// the drill's result or exit code.
@Suite struct NotificationTests {
    func policy(_ sandbox: Sandbox, _ hook: String) throws {
        try sandbox.writePolicy(targets: [("files", ["seq", "1", "1000"])], rawTargets: """
            notifications:
              - kind: webhook
                url: \(hook)/hooks/drctl?channel=ops
                headers:
                  Authorization: {env: DRCTL_TEST_HOOK_TOKEN}
            """)
    }

    @Test func failedDrillIsPostedWithRetries() throws {
        let sandbox = try Sandbox()
        let hook = try HTTPReceiver(failFirst: 2)
        try policy(sandbox, hook.url)
        let environment = ["DRCTL_TEST_HOOK_TOKEN": "Bearer t0ken"]
        #expect(try Drctl.run(["backup", "--policy", sandbox.policyPath], environment: environment).status == 0)
        let scratch = "\(sandbox.root)/scratch"
        let passed = try Drctl.run(["drill", "--policy", sandbox.policyPath, "--scratch-dir", scratch], environment: environment)
        #expect(passed.status == 0, "\(passed)")
        #expect(hook.requests.isEmpty, "a passing drill notifies nobody")

        // Damage the stored object: the drill fails, and says so to the webhook.
        let data = "\(sandbox.repository)/data/files"
        let object = "\(data)/\(try #require(sandbox.files(under: data).first))"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: object))
        bytes[bytes.count - 20] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: object))
        let failed = try Drctl.run(["drill", "--policy", sandbox.policyPath, "--scratch-dir", scratch], environment: environment)
        #expect(failed.status == 1, "\(failed)")
        let requests = hook.requests
        #expect(requests.count == 3, "two 500s, then delivered: \(requests.map(\.path))")
        let last = try #require(requests.last)
        #expect(last.method == "POST" && last.path == "/hooks/drctl?channel=ops")
        #expect(last.headers["authorization"] == "Bearer t0ken" && last.headers["content-type"] == "application/json")
        let payload = try #require(try JSONSerialization.jsonObject(with: Data(last.body.utf8)) as? [String: Any])
        #expect(payload["event"] as? String == "drill_failed")
        let drill = payload["drill"] as? [String: Any]
        #expect(drill?["target"] as? String == "files" && drill?["result"] as? String == "failed", "\(payload)")
        #expect((payload["summary"] as? String ?? "").contains("files"), "\(payload)")
    }

    /// A drill that restores fine but misses an objective (here the RPO: the backup is older
    /// than 1 s when the drill starts) is posted as drill_objectives_missed, with the reason.
    @Test func aDrillThatMissesItsObjectivesIsPosted() throws {
        let sandbox = try Sandbox()
        let hook = try HTTPReceiver()
        try sandbox.writePolicy(targets: [], rawTargets: """
              - name: files
                kind: command
                command: ["seq", "1", "1000"]
                objectives: {rpo: 1s}
            notifications:
              - kind: webhook
                url: \(hook.url)/hooks/drctl
            """)
        #expect(try sandbox.drctl(["backup"]).status == 0)
        usleep(1_500_000)
        let drill = try sandbox.drctl(["drill", "--scratch-dir", "\(sandbox.root)/scratch"])
        #expect(drill.status == 7, "\(drill)")
        let requests = hook.requests
        #expect(requests.count == 1, "\(requests.map(\.body))")
        let request = try #require(requests.first)
        let payload = try #require(try JSONSerialization.jsonObject(with: Data(request.body.utf8)) as? [String: Any])
        #expect(payload["event"] as? String == "drill_objectives_missed", "\(payload)")
        #expect((payload["drill"] as? [String: Any])?["result"] as? String == "objectives_missed", "\(payload)")
        let summary = payload["summary"] as? String ?? ""
        #expect(summary.contains("'files' missed its objectives: RPO ") && summary.contains("over the objective of 1.00 s"), "\(payload)")
    }

    @Test func undeliverableNotificationDoesNotChangeTheDrill() throws {
        let sandbox = try Sandbox()
        let hook = try HTTPReceiver(failFirst: 100)
        try policy(sandbox, hook.url)
        let environment = ["DRCTL_TEST_HOOK_TOKEN": "x"]
        #expect(try Drctl.run(["backup", "--policy", sandbox.policyPath], environment: environment).status == 0)
        try Command.shell("rm -r '\(sandbox.repository)/data/files'")
        let failed = try Drctl.run(["drill", "--policy", sandbox.policyPath, "--scratch-dir", "\(sandbox.root)/scratch"],
                                   environment: environment)
        #expect(failed.status == 1, "\(failed)")
        #expect(hook.requests.count == 3)
        #expect(failed.stderr.contains("notification not delivered"), "\(failed)")
        #expect(!failed.stderr.contains("channel=ops"), "the URL's query is not logged")
    }
}
