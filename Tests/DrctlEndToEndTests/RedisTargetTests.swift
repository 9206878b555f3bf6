import Foundation
import Testing
import DrctlSources
import DrctlTestSupport

/// `kind: redis` end to end: drctl takes the RDB over the replication protocol, restores it to
/// a file, and a fresh redis-server loads exactly the same data.
@Suite struct RedisTargetTests {
    func policyTarget(_ redis: RedisServer) -> String {
        """
          - name: cache
            kind: redis
            connection:
              host: 127.0.0.1
              port: \(redis.port)
              password: {env: DRCTL_TEST_REDIS_PASSWORD}

        """
    }

    @Test func backupRestoreAndLoad() throws {
        let sandbox = try Sandbox()
        let redis = try RedisServer(password: "s3cret pass")
        try redis.cli("DEBUG", "POPULATE", "20000", "key", "100")
        try redis.cli("HSET", "h", "a", "1", "b", "2")
        try redis.cli("RPUSH", "l", "x", "y", "z")
        try redis.cli("SADD", "s", "m1", "m2")
        try redis.cli("ZADD", "z", "1", "one", "2", "two")
        try redis.cli("XADD", "stream", "*", "field", "value")
        try redis.cli("SET", "ttl", "v", "EX", "3600")
        let digest = try redis.cli("DEBUG", "DIGEST")
        try sandbox.writePolicy(targets: [], rawTargets: policyTarget(redis))

        let backup = try Drctl.run(["backup", "--policy", sandbox.policyPath, "--json"],
                                   environment: ["DRCTL_TEST_REDIS_PASSWORD": redis.password!])
        #expect(backup.status == 0, "\(backup)")
        let manifestFile = sandbox.files(under: "\(sandbox.repository)/manifests/cache").first ?? ""
        let manifest = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: "\(sandbox.repository)/manifests/cache/\(manifestFile)"))) as? [String: Any]
        #expect(manifest?["kind"] as? String == "redis")
        let source = manifest?["source"] as? [String: Any]
        #expect((source?["keyspace"] as? [String: Int])?["0"] == 20006, "\(String(describing: source))")
        let point = manifest?["consistent_point"] as? [String: Any]
        #expect(point?["replication_offset"] != nil && point?["precision"] as? String == "snapshot")

        let rdb = "\(sandbox.root)/restored.rdb"
        let restore = try sandbox.drctl(["restore", "--target", "cache", "--to", rdb])
        #expect(restore.status == 0, "\(restore)")
        let check = try ChildProcess.run(["redis-check-rdb", rdb])
        #expect(check.exit.succeeded, "\(check.stdout)")

        let loaded = try RedisServer(password: "other", rdbFile: URL(fileURLWithPath: rdb))
        #expect(try loaded.cli("DBSIZE") == "20006")
        #expect(try loaded.cli("DEBUG", "DIGEST") == digest)
        #expect(try loaded.cli("HGET", "h", "b") == "2")
    }

    @Test func wrongPasswordFailsCleanly() throws {
        let sandbox = try Sandbox()
        let redis = try RedisServer(password: "s3cret pass")
        try sandbox.writePolicy(targets: [], rawTargets: policyTarget(redis))
        let backup = try Drctl.run(["backup", "--policy", sandbox.policyPath],
                                   environment: ["DRCTL_TEST_REDIS_PASSWORD": "wrong"])
        #expect(backup.status == 1, "\(backup)")
        #expect(backup.stderr.contains("127.0.0.1:\(redis.port)") && !backup.stderr.contains("wrong"), "\(backup)")
        #expect(sandbox.backupFiles(under: sandbox.repository).allSatisfy { $0 == "repository.json" })
        let unset = try Drctl.run(["backup", "--policy", sandbox.policyPath])
        #expect(unset.status != 0 && unset.stderr.contains("DRCTL_TEST_REDIS_PASSWORD"), "\(unset)")
    }
}
