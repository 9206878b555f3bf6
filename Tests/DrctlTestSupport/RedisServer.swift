import Foundation
import Glibc
import DrctlPipeline
import DrctlSources

/// A throwaway redis-server on a free loopback port, in a temporary directory of its own,
/// stopped (and the directory removed) by `stop()` or when released.
public final class RedisServer: @unchecked Sendable {
    public static let serverPath = "/usr/bin/redis-server"
    public static let cliPath = "/usr/bin/redis-cli"
    public static let checkPath = "/usr/bin/redis-check-rdb"

    public let port: Int
    public let password: String?
    public let directory: URL
    private let process: ChildProcess
    private var stopped = false

    public var pid: pid_t { process.pid }
    public var endpoint: RedisEndpoint { RedisEndpoint(host: "127.0.0.1", port: port, password: password) }

    /// Starts a server; `rdbFile` makes it load that RDB at start.
    public init(password: String? = nil, arguments extra: [String] = [], rdbFile: URL? = nil) throws {
        signal(SIGPIPE, SIG_IGN)
        port = try Self.freePort()
        self.password = password
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var arguments = [
            "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", directory.path, "--daemonize", "no", "--logfile", directory.appendingPathComponent("redis.log").path,
            "--enable-debug-command", "yes",
        ]
        if let password { arguments += ["--requirepass", password] }
        if let rdbFile {
            let target = directory.appendingPathComponent("loaded.rdb")
            try FileManager.default.copyItem(at: rdbFile, to: target)
            arguments += ["--dbfilename", "loaded.rdb"]
        }
        arguments += extra
        process = try ChildProcess(argv: [Self.serverPath] + arguments)
        try waitUntilReady()
    }

    deinit { stop() }

    private func waitUntilReady() throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if process.poll() != nil {
                let log = (try? String(contentsOf: directory.appendingPathComponent("redis.log"), encoding: .utf8)) ?? ""
                throw TestFailure("redis-server exited at start: \(log.suffix(2000))")
            }
            if (try? cli("PING")) == "PONG" { return }
            usleep(50_000)
        }
        throw TestFailure("redis-server on port \(port) did not answer PING within 30 s")
    }

    /// Runs redis-cli against this server (password through the environment) and returns its
    /// trimmed output.
    @discardableResult
    public func cli(_ arguments: String..., db: Int = 0) throws -> String {
        try cli(arguments, db: db)
    }

    @discardableResult
    public func cli(_ arguments: [String], db: Int = 0) throws -> String {
        var environment: [String: String] = [:]
        if let password { environment["REDISCLI_AUTH"] = password }
        let result = try ChildProcess.run([Self.cliPath, "-h", "127.0.0.1", "-p", "\(port)", "-n", "\(db)"] + arguments,
                                          environment: .inherited(adding: environment))
        return (result.stdout + result.stderr).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Kills the server at once (SIGKILL): no shutdown, connections just end.
    public func kill9() {
        guard process.poll() == nil else { return }
        kill(process.pid, SIGKILL)
        process.wait()
    }

    public func stop() {
        guard !stopped else { return }
        stopped = true
        if process.poll() == nil {
            kill(process.pid, SIGKILL)
            process.wait()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// A port nothing listens on right now (the kernel's choice for an ephemeral bind).
    public static func freePort() throws -> Int {
        do { return try LoopbackPort.free() } catch { throw TestFailure("\(error)") }
    }

    /// A socket listening on `port` that never accepts (the kernel completes connections anyway).
    public static func listen(port: Int, backlog: Int32 = 8) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, backlog) == 0 else {
            close(fd)
            throw TestFailure("listen: \(String(cString: strerror(errno)))")
        }
        return fd
    }

    /// Starts a connect to a loopback port without waiting for it.
    public static func connectNonBlocking(port: Int) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return fd
    }

    /// Every kind of key: strings, hashes, lists, sets, sorted sets, streams, some with TTLs,
    /// small (listpack, intset) and large encodings, and a 800 KB string.
    public func seedEveryType(groups: Int) throws {
        let script = """
        local n = tonumber(ARGV[1])
        for i = 1, n do
          redis.call('SET', 'str:'..i, 'value-'..i)
          redis.call('HSET', 'hash:'..i, 'name', 'h'..i, 'n', i)
          redis.call('RPUSH', 'list:'..i, 'a', 'b', i)
          redis.call('SADD', 'set:'..i, 'x', 'y', i)
          redis.call('ZADD', 'zset:'..i, 1.5, 'one', i, 'm'..i)
          redis.call('XADD', 'stream:'..i, '*', 'field', i)
          if i % 10 == 0 then
            redis.call('EXPIRE', 'str:'..i, 3600)
            redis.call('PEXPIRE', 'hash:'..i, 7200000)
          end
        end
        for i = 1, 1000 do
          redis.call('HSET', 'bighash', 'f'..i, 'v'..i)
          redis.call('RPUSH', 'biglist', 'item'..i)
          redis.call('SADD', 'bigintset', i)
          redis.call('SADD', 'bigset', 'member'..i)
          redis.call('ZADD', 'bigzset', i / 3, 'z'..i)
          redis.call('XADD', 'bigstream', '*', 'i', i)
        end
        redis.call('SET', 'large', string.rep('abcdefgh', 100000))
        redis.call('SET', 'counter', 12345)
        return 'ok'
        """
        let result = try cli(["EVAL", script, "0", "\(groups)"])
        guard result == "ok" else { throw TestFailure("seeding failed: \(result)") }
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

