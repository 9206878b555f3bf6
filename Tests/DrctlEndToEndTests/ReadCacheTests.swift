import Foundation
import Testing
import DrctlStorage
import DrctlTestSupport

/// The read cache (`ObjectCache`): a repeat `check` reads only what is new since the last LIST,
/// counted through a relay in front of moto; a damaged entry is read again.
@Suite struct ReadCacheTests {
    let credentials = ["AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "moto-does-not-check"]

    /// The requests one run made: those the relay saw after `before` of them.
    static func requests(of proxy: FaultProxy, after before: Int) throws -> [String] {
        Array(try proxy.requests().dropFirst(before))
    }

    /// Beside the listings, `check` reads each target's newest lock (`TargetLock`), uncached:
    /// locks are not write-once history.
    static func withoutLocks(_ requests: [String]) -> [String] {
        requests.filter { !$0.contains("/locks/") }
    }

    static func manifestReads(_ requests: [String]) -> [String] {
        requests.filter { $0.hasPrefix("GET /backups/prod/manifests/") }
    }

    @Test func aWarmCheckListsAndReadsOnlyNewManifestsAndRereadsADamagedEntry() throws {
        let sandbox = try Sandbox()
        let moto = try MotoProcess()
        try moto.createBucket("backups")
        let proxy = try FaultProxy(upstream: moto.port, every: 1_000_000_000, faults: ["500"])
        try sandbox.writeS3Policy(endpoint: "http://127.0.0.1:\(proxy.port)", command: ["echo", "hello"])
        let cache = "\(sandbox.root)/cache"
        let environment = credentials.merging(["DRCTL_CACHE_DIR": cache]) { $1 }
        for _ in 1...2 {
            let backup = try Drctl.run(["backup", "--policy", sandbox.policyPath], environment: environment)
            try #require(backup.status == 0, "\(backup)")
        }
        let now = ["--now", Timestamp.format(Date().addingTimeInterval(60))]
        func check() throws -> (result: Drctl.Result, requests: [String]) {
            let before = try proxy.requests().count
            let result = try Drctl.run(["check", "--policy", sandbox.policyPath] + now, environment: environment)
            return (result, try Self.requests(of: proxy, after: before))
        }

        let cold = try check()
        #expect(cold.result.stdout.contains("files"), "\(cold.result)")
        #expect(Self.manifestReads(cold.requests).count == 2, "one GET for each manifest: \(cold.requests)")
        #expect(!cold.requests.contains { $0.hasPrefix("HEAD ") }, "the LIST gave the sizes (of locks too): \(cold.requests)")

        let warm = try check()
        #expect(warm.result.stdout == cold.result.stdout, "\(warm.result)")
        #expect(Self.manifestReads(warm.requests).isEmpty, "\(warm.requests)")
        #expect(Self.withoutLocks(warm.requests).allSatisfy { $0.contains("list-type=2") }, "only listings: \(warm.requests)")

        let third = try Drctl.run(["backup", "--policy", sandbox.policyPath], environment: environment)
        try #require(third.status == 0, "\(third)")
        let afterBackup = try check()
        #expect(Self.manifestReads(afterBackup.requests).count == 1, "the new manifest only: \(afterBackup.requests)")

        // A damaged entry (a byte of the manifest flipped) is noticed, read again and rewritten.
        // (repository.json is kept beside them: the repository's id is read with each run.)
        let entries = try FileManager.default.subpathsOfDirectory(atPath: cache).filter { $0.hasSuffix(".json") && $0.contains("/manifests/") }
        #expect(entries.count == 3, "\(entries)")
        let entry = try #require(entries.first)
        let damaged = "\(cache)/\(entry)"
        let damagedKey = entry.split(separator: "/").dropFirst().joined(separator: "/")
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: damaged)))
        bytes[bytes.count - 10] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: damaged))
        let reread = try check()
        #expect(reread.result.stdout == afterBackup.result.stdout, "\(reread.result)")
        #expect(Self.manifestReads(reread.requests) == ["GET /backups/prod/\(damagedKey)"],
                "the damaged entry's manifest only: \(reread.requests)")
        #expect(Self.manifestReads(try check().requests).isEmpty)

        // Private: manifests carry wrapped data keys and database names.
        let attributes = try FileManager.default.attributesOfItem(atPath: damaged)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let folder = try FileManager.default.attributesOfItem(atPath: cache)
        #expect((folder[.posixPermissions] as? Int) == 0o700)
    }

    @Test func aCacheThatCannotBeWrittenWarnsOnceAndTheCheckGoesOn() throws {
        let sandbox = try Sandbox()
        let moto = try MotoProcess()
        try moto.createBucket("backups")
        try sandbox.writeS3Policy(endpoint: "http://127.0.0.1:\(moto.port)", command: ["echo", "hello"])
        let blocked = "\(sandbox.root)/not-a-directory"
        try Data("x".utf8).write(to: URL(fileURLWithPath: blocked))
        let environment = credentials.merging(["DRCTL_CACHE_DIR": blocked + "/cache"]) { $1 }
        for _ in 1...2 {
            let backup = try Drctl.run(["backup", "--policy", sandbox.policyPath], environment: environment)
            try #require(backup.status == 0, "\(backup)")
        }
        let check = try Drctl.run(["check", "--policy", sandbox.policyPath, "--now", Timestamp.format(Date().addingTimeInterval(60))],
                                  environment: environment)
        #expect(check.stdout.contains("DRCTL OK"), "\(check)")
        #expect(check.stderr.components(separatedBy: "cannot write the read cache").count == 2, "one warning: \(check.stderr)")
    }

    /// Where the cache is: `--cache-dir`, else `$DRCTL_CACHE_DIR`, else the policy's
    /// `repository.cache_dir`, else the default (here the sandbox's `$XDG_CACHE_HOME`, unused).
    /// Each is seen through the entries a check leaves there; a relative `cache_dir` is refused.
    @Test func theCacheDirectoryComesFromTheFlagTheEnvironmentOrThePolicy() throws {
        let sandbox = try Sandbox()
        let moto = try MotoProcess()
        try moto.createBucket("backups")
        try sandbox.writeS3Policy(endpoint: "http://127.0.0.1:\(moto.port)", command: ["echo", "hello"])
        let policyText = try String(contentsOfFile: sandbox.policyPath, encoding: .utf8)
        try policyText.replacingOccurrences(of: "  encryption:", with: "  cache_dir: \(sandbox.root)/from-policy\n  encryption:")
            .write(toFile: sandbox.policyPath, atomically: true, encoding: .utf8)
        let base = credentials.merging(["XDG_CACHE_HOME": "\(sandbox.root)/xdg", "HOME": sandbox.root]) { $1 }
        let backup = try Drctl.run(["backup", "--policy", sandbox.policyPath], environment: base.merging(["DRCTL_CACHE_DIR": "off"]) { $1 })
        try #require(backup.status == 0, "\(backup)")
        func manifestEntries(_ directory: String) -> Int {
            ((try? FileManager.default.subpathsOfDirectory(atPath: "\(sandbox.root)/\(directory)")) ?? [])
                .filter { $0.contains("/manifests/") && $0.hasSuffix(".json") }.count
        }
        func check(_ flags: [String], environment: [String: String?]) throws {
            var argv = ["/usr/bin/env"]
            for (name, value) in environment {
                argv += value.map { ["\(name)=\($0)"] } ?? ["-u", name]
            }
            let result = try Command.run(argv + [Drctl.binary, "check", "--policy", sandbox.policyPath] + flags, environment: base)
            #expect(result.stdout.contains("DRCTL OK"), "\(result)")
        }

        try check([], environment: ["DRCTL_CACHE_DIR": nil])
        #expect(manifestEntries("from-policy") == 1)
        try check([], environment: ["DRCTL_CACHE_DIR": "\(sandbox.root)/from-environment"])
        #expect(manifestEntries("from-environment") == 1)
        try check(["--cache-dir", "\(sandbox.root)/from-flag"], environment: ["DRCTL_CACHE_DIR": "\(sandbox.root)/from-environment-2"])
        #expect(manifestEntries("from-flag") == 1)
        #expect(manifestEntries("from-environment-2") == 0)
        #expect(manifestEntries("xdg") == 0)

        try policyText.replacingOccurrences(of: "  encryption:", with: "  cache_dir: relative/cache\n  encryption:")
            .write(toFile: sandbox.policyPath, atomically: true, encoding: .utf8)
        let refused = try Drctl.run(["check", "--policy", sandbox.policyPath], environment: base)
        #expect(refused.status != 0 && refused.stderr.contains("repository.cache_dir")
                && refused.stderr.contains("must be an absolute path"), "\(refused)")
    }
}
