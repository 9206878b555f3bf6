import Foundation
import Testing
import DrctlSources
import DrctlTestSupport

/// The binary through the fault proxy: every third request to the region answers 500 or
/// 503 SlowDown, is reset before or after moto applied it, or stalls. Backup, verify and
/// restore still succeed, byte-identical, and no upload is left behind.
@Suite struct S3FaultRegionTests {
    @Test func backupAndRestoreThroughFaultsAreByteIdentical() throws {
        let sandbox = try Sandbox()
        let moto = try MotoProcess()
        try moto.createBucket("backups")
        let proxy = try FaultProxy(upstream: moto.port, every: 3, faults: ["500", "503", "reset", "stall", "applied-reset"])
        let input = "\(sandbox.root)/input"
        try Command.shell("head -c 23000000 /dev/urandom > '\(input)'")   // five parts of 5 MiB
        try sandbox.writeS3Policy(endpoint: "http://127.0.0.1:\(proxy.port)", settings: ["timeout: 30s"], command: ["cat", input])
        let credentials = ["AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "moto-does-not-check"]

        let backup = try Drctl.run(["backup", "--policy", sandbox.policyPath, "--json"], environment: credentials)
        #expect(backup.status == 0 && backup.stdout.contains("\"complete\""), "\(backup)")
        let verify = try Drctl.run(["verify", "--policy", sandbox.policyPath], environment: credentials)
        #expect(verify.status == 0 && verify.stdout.contains("s3: ok"), "\(verify)")
        let out = "\(sandbox.root)/restored"
        let restore = try Drctl.run(["restore", "--policy", sandbox.policyPath, "--target", "files", "--to", out],
                                    environment: credentials)
        #expect(restore.status == 0, "\(restore)")
        #expect(try sandbox.sha256(out) == sandbox.sha256(input))

        let stats = try proxy.stats()
        #expect(stats.faults >= 10, "every kind of fault, twice: \(stats)")
        #expect(try moto.store(bucket: "backups").pendingUploads().isEmpty)
    }
}
