import Foundation
import Glibc
import Testing
import DrctlPipeline
import DrctlSources
import DrctlTestSupport

/// RedisRDBSource and RedisFacts against real redis-server processes started by the tests.
@Suite struct RedisRDBSourceTests {
    /// The error `body` throws, as a RedisError (nil if it threw nothing or something else).
    func redisError(_ body: () throws -> Void) -> RedisError? {
        do {
            try body()
            return nil
        } catch let error as RedisError {
            return error
        } catch {
            Issue.record("expected a RedisError, got \(error)")
            return nil
        }
    }

    func temporaryFile(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("drctl-redis-test-\(UUID().uuidString)-\(name)")
    }

    /// Both servers hold the same data: key counts per database, the whole-dataset digest,
    /// and a sample of values of every type read back.
    func expectSameData(_ original: RedisServer, _ loaded: RedisServer) throws {
        for db in [0, 1] {
            let count = try original.cli("DBSIZE", db: db)
            #expect(Int(count) ?? 0 > 0)
            #expect(try loaded.cli("DBSIZE", db: db) == count)
        }
        #expect(try loaded.cli("DEBUG", "DIGEST") == original.cli("DEBUG", "DIGEST"))
        let samples: [[String]] = [
            ["GET", "str:7"], ["GET", "counter"], ["STRLEN", "large"], ["GETRANGE", "large", "799990", "-1"],
            ["HGETALL", "hash:3"], ["HGET", "bighash", "f500"], ["HLEN", "bighash"],
            ["LRANGE", "list:5", "0", "-1"], ["LINDEX", "biglist", "999"],
            ["SISMEMBER", "bigintset", "777"], ["SCARD", "bigset"], ["SISMEMBER", "bigset", "member42"],
            ["ZRANGE", "zset:9", "0", "-1", "WITHSCORES"], ["ZSCORE", "bigzset", "z999"],
            ["XRANGE", "stream:4", "-", "+"], ["XLEN", "bigstream"],
            ["GET", "key:12345"], ["TYPE", "stream:1"], ["TYPE", "zset:1"],
        ]
        for command in samples {
            let value = try original.cli(command)
            #expect(!value.isEmpty)
            #expect(try loaded.cli(command) == value, "\(command.joined(separator: " "))")
        }
        let members = try original.cli("SMEMBERS", "set:2").split(separator: "\n").sorted()
        #expect(try loaded.cli("SMEMBERS", "set:2").split(separator: "\n").sorted() == members)
        // TTLs survive (absolute expiry times are in the RDB).
        let ttl = Int(try loaded.cli("TTL", "str:10")) ?? -1
        #expect(ttl > 3000 && ttl <= 3600)
        #expect(try loaded.cli("TTL", "str:11") == "-1")
        #expect(Int(try loaded.cli("PTTL", "hash:20")) ?? -1 > 7_000_000)
    }

    func seed(_ server: RedisServer) throws {
        try server.seedEveryType(groups: 500)
        #expect(try server.cli("DEBUG", "POPULATE", "20000") == "OK")
        #expect(try server.cli("DEBUG", "POPULATE", "300", "other", db: 1) == "OK")
    }

    @Test(arguments: [false, true])
    func snapshotLoadsIntoAFreshServer(diskless: Bool) throws {
        let server = try RedisServer(password: "s3cret pass", arguments: [
            "--repl-diskless-sync", diskless ? "yes" : "no", "--repl-diskless-sync-delay", "0",
        ])
        defer { server.stop() }
        try seed(server)

        let file = temporaryFile("dump.rdb")
        defer { try? FileManager.default.removeItem(at: file) }
        let source = try RedisRDBSource(endpoint: server.endpoint)
        let bytes = try drain(source, into: file)
        if diskless {
            #expect(source.transfer == .diskless)
        } else {
            #expect(source.transfer == .length(Int64(bytes)))
        }
        #expect(source.deliveredBytes == Int64(bytes))
        #expect(bytes > 500_000)

        let check = try run(RedisServer.checkPath, [file.path])
        #expect(check.status == 0, "\(check.output)")

        // The RDB's head names the exact replication point; redis-check-rdb reads the same.
        let info = try #require(source.snapshotInfo)
        #expect(info.rdbVersion >= 9)
        #expect(info.redisVersion == (try RedisFacts.gather(server.endpoint).version))
        #expect(info.replicationID?.count == 40)
        let offset = try #require(info.replicationOffset)
        #expect(check.output.contains("AUX FIELD repl-offset = '\(offset)'"))
        #expect(check.output.contains("AUX FIELD repl-id = '\(info.replicationID ?? "")'"))
        #expect(info.createdAt ?? 0 > 1_700_000_000)

        let loaded = try RedisServer(rdbFile: file)
        defer { loaded.stop() }
        try expectSameData(server, loaded)
    }

    /// Tiny read buffers: the diskless path's held-back 40 bytes straddle every read.
    @Test(arguments: [false, true])
    func tinyReadBuffers(diskless: Bool) throws {
        let server = try RedisServer(arguments: ["--repl-diskless-sync", diskless ? "yes" : "no", "--repl-diskless-sync-delay", "0"])
        defer { server.stop() }
        try server.seedEveryType(groups: 20)
        let file = temporaryFile("small.rdb")
        defer { try? FileManager.default.removeItem(at: file) }
        let source = try RedisRDBSource(endpoint: server.endpoint)
        try drain(source, into: file, bufferSize: 13)
        // The head parser copes with the RDB arriving 13 bytes at a time.
        #expect(source.snapshotInfo?.replicationOffset != nil)
        #expect(source.snapshotInfo?.auxiliary["redis-bits"] == "64")
        #expect(try run(RedisServer.checkPath, [file.path]).status == 0)
        let loaded = try RedisServer(rdbFile: file)
        defer { loaded.stop() }
        #expect(try loaded.cli("DEBUG", "DIGEST") == server.cli("DEBUG", "DIGEST"))
    }

    @Test func wrongOrMissingPassword() throws {
        let server = try RedisServer(password: "right")
        defer { server.stop() }
        var endpoint = server.endpoint
        endpoint.password = "wrong"
        let wrong = redisError { _ = try RedisRDBSource(endpoint: endpoint) }
        guard case .authenticationFailed(let address, nil, let message)? = wrong else {
            Issue.record("expected authenticationFailed, got \(String(describing: wrong))")
            return
        }
        #expect(address == "127.0.0.1:\(server.port)")
        #expect(message.hasPrefix("WRONGPASS"))
        #expect(!wrong!.description.contains("wrong"))  // never the password
        #expect(wrong!.description.contains("rejected the password"))

        endpoint.password = nil
        let missing = redisError { _ = try RedisRDBSource(endpoint: endpoint) }
        #expect(missing == .passwordRequired(address: "127.0.0.1:\(server.port)"))
        #expect(missing?.description.contains("NOAUTH") == true)

        let factsError = redisError { _ = try RedisFacts.gather(endpoint) }
        #expect(factsError == .passwordRequired(address: "127.0.0.1:\(server.port)"))
    }

    @Test func connectionRefusedAndUnresolvable() throws {
        let port = try RedisServer.freePort()
        let refused = redisError { _ = try RedisRDBSource(endpoint: RedisEndpoint(host: "127.0.0.1", port: port)) }
        #expect(refused == .connectionRefused(address: "127.0.0.1:\(port)"))
        #expect(refused?.description.contains("refused the connection") == true)

        let dns = redisError { _ = try RedisRDBSource(endpoint: RedisEndpoint(host: "no-such-host.invalid", port: 6379)) }
        guard case .cannotResolve(let address, _)? = dns else {
            Issue.record("expected cannotResolve, got \(String(describing: dns))")
            return
        }
        #expect(address == "no-such-host.invalid:6379")

    }

    /// A host that does not answer (here: a listener whose accept queue is full, so the
    /// kernel drops our SYNs): the connect timeout ends the wait with "unreachable".
    @Test func connectTimeout() throws {
        let port = try RedisServer.freePort()
        let listener = try RedisServer.listen(port: port, backlog: 0)
        defer { close(listener) }
        var fillers: [Int32] = []
        defer { fillers.forEach { close($0) } }
        for _ in 0..<4 { fillers.append(RedisServer.connectNonBlocking(port: port)) }
        usleep(200_000)
        let started = ContinuousClock.now
        let error = redisError {
            _ = try RedisRDBSource(endpoint: RedisEndpoint(host: "127.0.0.1", port: port), connectTimeout: .milliseconds(500))
        }
        guard case .unreachable(let address, let reason)? = error else {
            Issue.record("expected unreachable, got \(String(describing: error))")
            return
        }
        #expect(address == "127.0.0.1:\(port)")
        #expect(reason.contains("no answer within 500 ms"))
        #expect(ContinuousClock.now - started < .seconds(3))
    }

    /// Something that accepts connections but never answers: the idle timeout ends the wait.
    @Test func silentServerTimesOut() throws {
        let port = try RedisServer.freePort()
        let listener = try RedisServer.listen(port: port)
        defer { close(listener) }
        let started = ContinuousClock.now
        let error = redisError {
            _ = try RedisRDBSource(endpoint: RedisEndpoint(host: "127.0.0.1", port: port, password: "x"), idleTimeout: .seconds(1))
        }
        guard case .timedOut(let address, 1, _)? = error else {
            Issue.record("expected timedOut, got \(String(describing: error))")
            return
        }
        #expect(address == "127.0.0.1:\(port)")
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test(arguments: [false, true])
    func serverKilledMidTransfer(diskless: Bool) throws {
        let server = try RedisServer(password: "pw", arguments: [
            "--rdbcompression", "no", "--repl-diskless-sync", diskless ? "yes" : "no", "--repl-diskless-sync-delay", "0",
        ])
        defer { server.stop() }
        #expect(try server.cli("DEBUG", "POPULATE", "200000", "key", "1000") == "OK")

        let source = try RedisRDBSource(endpoint: server.endpoint)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
        defer { buffer.deallocate() }
        #expect(try source.read(into: buffer) > 0)
        server.kill9()
        let error = redisError {
            while try source.read(into: buffer) > 0 {}
            try source.finish()
        }
        guard case .incompleteTransfer(let address, let received, let expected, _)? = error else {
            Issue.record("expected incompleteTransfer, got \(String(describing: error))")
            return
        }
        #expect(address == "127.0.0.1:\(server.port)")
        if diskless {
            #expect(expected == nil)
        } else {
            #expect(expected ?? 0 > 200_000_000)
            #expect(received < expected ?? 0)
        }
        #expect(error!.description.contains("the snapshot is incomplete"))
    }

    @Test func aclUser() throws {
        let server = try RedisServer(password: "admin", arguments: ["--repl-diskless-sync", "no"])
        defer { server.stop() }
        try server.seedEveryType(groups: 50)
        #expect(try server.cli("ACL", "SETUSER", "backup", "on", ">pw", "+@all", "~*") == "OK")
        #expect(try server.cli("ACL", "SETUSER", "nosync", "on", ">pw2", "+@all", "-sync", "~*") == "OK")

        let endpoint = RedisEndpoint(host: "127.0.0.1", port: server.port, username: "backup", password: "pw")
        let file = temporaryFile("acl.rdb")
        defer { try? FileManager.default.removeItem(at: file) }
        let bytes = try drain(RedisRDBSource(endpoint: endpoint), into: file)
        #expect(bytes > 0)
        #expect(try run(RedisServer.checkPath, [file.path]).status == 0)
        #expect(try RedisFacts.gather(endpoint).totalKeys == Int(server.cli("DBSIZE")))

        var wrong = endpoint
        wrong.password = "nope"
        let rejected = redisError { _ = try RedisRDBSource(endpoint: wrong) }
        guard case .authenticationFailed(_, "backup", _)? = rejected else {
            Issue.record("expected authenticationFailed for backup, got \(String(describing: rejected))")
            return
        }

        let noSync = RedisEndpoint(host: "127.0.0.1", port: server.port, username: "nosync", password: "pw2")
        let refused = redisError { _ = try drain(RedisRDBSource(endpoint: noSync), into: file) }
        guard case .commandRefused(_, "SYNC", let message)? = refused else {
            Issue.record("expected commandRefused SYNC, got \(String(describing: refused))")
            return
        }
        #expect(message.hasPrefix("NOPERM"))
    }

    @Test func replicaWithoutItsMasterRefusesSync() throws {
        let server = try RedisServer()
        defer { server.stop() }
        let deadPort = try RedisServer.freePort()
        #expect(try server.cli("REPLICAOF", "127.0.0.1", "\(deadPort)") == "OK")
        let file = temporaryFile("replica.rdb")
        defer { try? FileManager.default.removeItem(at: file) }
        let error = redisError { _ = try drain(RedisRDBSource(endpoint: server.endpoint), into: file) }
        guard case .commandRefused(_, "SYNC", let message)? = error else {
            Issue.record("expected commandRefused SYNC, got \(String(describing: error))")
            return
        }
        #expect(message.contains("NOMASTERLINK"))
        #expect(error!.description.contains("127.0.0.1:\(server.port)"))
    }

    /// cancel() from another thread ends a read that waits for the snapshot.
    @Test func cancelEndsABlockedRead() throws {
        let server = try RedisServer(arguments: ["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "30"])
        defer { server.stop() }
        try server.cli("SET", "a", "b")
        let source = try RedisRDBSource(endpoint: server.endpoint)
        final class Box: @unchecked Sendable {
            let source: RedisRDBSource
            init(_ source: RedisRDBSource) { self.source = source }
        }
        let box = Box(source)
        let thread = Thread {
            usleep(500_000)
            box.source.cancel()
        }
        thread.start()
        let started = ContinuousClock.now
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
        defer { buffer.deallocate() }
        let error = redisError { _ = try source.read(into: buffer) }
        #expect(error == .cancelled(address: "127.0.0.1:\(server.port)"))
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func facts() throws {
        let server = try RedisServer(password: "pw")
        defer { server.stop() }
        try seed(server)
        let facts = try RedisFacts.gather(server.endpoint)
        #expect(facts.keyspace[0] == Int(try server.cli("DBSIZE", db: 0)))
        #expect(facts.keyspace[1] == Int(try server.cli("DBSIZE", db: 1)))
        #expect(facts.keyspace[2] == nil)
        #expect(facts.replicationOffset != nil)
        #expect(facts.role == "master")
        let version = try run(RedisServer.serverPath, ["--version"]).output
        #expect(version.contains("v=\(facts.version) "))
    }
}
