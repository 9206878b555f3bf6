import Foundation
import Glibc
import Testing
import DrctlSources
import DrctlTestSupport

/// Redis at a realistic size: 200k keys of every type, some with TTLs, behind a password,
/// come back identical; a server killed mid-transfer leaves nothing behind.
@Suite struct RedisFidelityTests {
    @Test func twoHundredThousandKeysOfEveryType() throws {
        let sandbox = try Sandbox()
        let redis = try RedisServer(password: "s3cret pass")
        try redis.seedEveryType(groups: 33_400)   // 6 keys a group, plus the big ones
        let size = try #require(Int(try redis.cli("DBSIZE")))
        #expect(size >= 200_000)
        let digest = try redis.cli("DEBUG", "DIGEST")
        try sandbox.writePolicy(targets: [], rawTargets: RedisTargetTests().policyTarget(redis))
        let backup = try Drctl.run(["backup", "--policy", sandbox.policyPath],
                                   environment: ["DRCTL_TEST_REDIS_PASSWORD": redis.password!])
        #expect(backup.status == 0, "\(backup)")

        let rdb = "\(sandbox.root)/restored.rdb"
        let restore = try sandbox.drctl(["restore", "--target", "cache", "--to", rdb])
        #expect(restore.status == 0, "\(restore)")
        let loaded = try RedisServer(password: "another", rdbFile: URL(fileURLWithPath: rdb))
        #expect(try loaded.cli("DBSIZE") == "\(size)")
        #expect(try loaded.cli("DEBUG", "DIGEST") == digest)
        // A sample of values, type by type, and the TTLs.
        for i in [1, 777, 20_000, 33_400] {
            for command in [["GET", "str:\(i)"], ["HGETALL", "hash:\(i)"], ["LRANGE", "list:\(i)", "0", "-1"],
                            ["SMEMBERS", "set:\(i)"], ["ZRANGE", "zset:\(i)", "0", "-1", "WITHSCORES"],
                            ["XRANGE", "stream:\(i)", "-", "+"]] {
                // Set members come back in hash order: compare them as sets.
                let normalise = { (text: String) in command[0] == "SMEMBERS" ? text.split(separator: "\n").sorted().joined(separator: "\n") : text }
                #expect(try normalise(loaded.cli(command)) == normalise(redis.cli(command)), "\(command)")
            }
        }
        let ttl = try #require(Int(try loaded.cli("TTL", "str:20000")))
        #expect(ttl > 3000 && ttl <= 3600)
        #expect(try loaded.cli("TTL", "str:20001") == "-1")
        #expect(try loaded.cli("PTTL", "hash:30") != "-1")
    }

    /// The server dies while it streams the RDB (slowed by rdb-key-save-delay so the kill
    /// lands mid-transfer): a clear error naming the server, exit 1, nothing stored.
    @Test func serverKilledMidTransfer() throws {
        let sandbox = try Sandbox()
        let redis = try RedisServer(password: "s3cret pass", arguments: ["--repl-diskless-sync", "yes",
                                                                         "--repl-diskless-sync-delay", "0"])
        try redis.cli("DEBUG", "POPULATE", "30000", "key", "200")
        try redis.cli("CONFIG", "SET", "rdb-key-save-delay", "300")   // µs per key: ~9 s in all
        try sandbox.writePolicy(targets: [], rawTargets: RedisTargetTests().policyTarget(redis))
        let run = try RunningDrctl(["backup", "--policy", sandbox.policyPath],
                                   environment: ["DRCTL_TEST_REDIS_PASSWORD": redis.password!])
        #expect(eventually(within: 30) {
            sandbox.files(under: sandbox.repository).contains { $0.contains(".tmp-") }
        })
        usleep(300_000)
        // The server and the child that writes the snapshot to the replica socket.
        let children = try Command.run(["/usr/bin/pgrep", "-P", "\(redis.pid)"]).stdout
        redis.kill9()
        for child in children.split(separator: "\n").compactMap({ pid_t($0) }) { kill(child, SIGKILL) }
        let result = run.wait()
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("127.0.0.1:\(redis.port)") && result.stderr.contains("backup of 'cache' failed"), "\(result)")
        let stored = sandbox.backupFiles(under: sandbox.repository).filter { $0 != "repository.json" && !$0.hasPrefix("records/") }
        #expect(stored.isEmpty, "left behind: \(stored)")
    }
}
