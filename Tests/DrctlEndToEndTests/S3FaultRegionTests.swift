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

    /// A storm in front of S3 (SlowDown on a fifth of requests, resets and bodies cut in the
    /// middle on a tenth each, a few 3 s stalls), seeded: one backup of incompressible bytes made
    /// directly, then restored through the storm, each restore byte-identical. A restore's
    /// requests come one at a time, so a seed gives the same faults every run; with this one,
    /// restores that retried a ranged read 3 times under a second apart gave up.
    ///
    /// In the suite: 24 MiB restored 3 times. The issue's full run, 10 restores of 200 MB,
    /// is scripts/restore-storm.sh (DRCTL_STORM_MB, DRCTL_STORM_RESTORES, DRCTL_STORM_SEED).
    @Test func restoresSurviveAStorm() throws {
        let settings = ProcessInfo.processInfo.environment
        let megabytes = settings["DRCTL_STORM_MB"].flatMap { Int($0) } ?? 24
        let restores = settings["DRCTL_STORM_RESTORES"].flatMap { Int($0) } ?? 3
        let seed = settings["DRCTL_STORM_SEED"].flatMap { UInt64($0) } ?? 7
        let sandbox = try Sandbox()
        let moto = try MotoProcess()
        try moto.createBucket("backups")
        let input = "\(sandbox.root)/input"
        try Command.shell("head -c \(megabytes * 1_000_000) /dev/urandom > '\(input)'")
        let credentials = ["AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "moto-does-not-check"]
        try sandbox.writeS3Policy(endpoint: "http://127.0.0.1:\(moto.port)", command: ["cat", input])
        let backup = try Drctl.run(["backup", "--policy", sandbox.policyPath], environment: credentials)
        try #require(backup.status == 0, "\(backup)")

        let proxy = try FaultProxy(upstream: moto.port, seed: seed, rates: ["503": 0.2, "reset": 0.1, "cut": 0.1, "stall": 0.02])
        try sandbox.writeS3Policy(endpoint: "http://127.0.0.1:\(proxy.port)", settings: ["timeout: 30s"], command: ["cat", input])
        let expected = try sandbox.sha256(input)
        var intact = 0
        for number in 1...restores {
            let out = "\(sandbox.root)/restored-\(number)"
            let started = Date()
            let restore = try Drctl.run(["restore", "--policy", sandbox.policyPath, "--target", "files", "--to", out],
                                        environment: credentials)
            let identical = try restore.status == 0 && sandbox.sha256(out) == expected
            #expect(identical, "restore \(number): \(restore)")
            if identical { intact += 1 }
            print("storm restore \(number) of \(restores): \(identical ? "byte-identical" : "FAILED") in "
                  + String(format: "%.1f s", Date().timeIntervalSince(started)))
            try? FileManager.default.removeItem(atPath: out)
        }
        let stats = try proxy.stats()
        print("storm: \(intact) of \(restores) restores of \(megabytes) MB byte-identical; \(stats.requests) requests, \(stats.faults) faulted")
        #expect(stats.faults >= 5, "\(stats)")
    }
}
