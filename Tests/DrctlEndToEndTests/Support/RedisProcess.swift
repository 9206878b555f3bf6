import Foundation
import Glibc
import DrctlSources

/// A throwaway redis-server on a free loopback port, with a password; killed at the end.
final class RedisProcess {
    let port: Int
    let password: String
    let directory: String
    private let server: ChildProcess

    /// - Parameter rdb: an RDB file to load at start.
    init(password: String = "s3cret pass", rdb: String? = nil) throws {
        self.password = password
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-redis-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if let rdb { try FileManager.default.copyItem(atPath: rdb, toPath: "\(directory)/dump.rdb") }
        (port, server) = try Self.start(directory: directory, password: password)
    }

    /// Tries a few random ports until one is free.
    private static func start(directory: String, password: String) throws -> (Int, ChildProcess) {
        var lastError: Error?
        for _ in 0..<5 {
            let port = Int.random(in: 20000...60000)
            let server = try ChildProcess(argv: [
                "redis-server", "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", directory, "--dbfilename", "dump.rdb", "--daemonize", "no", "--requirepass", password,
                "--logfile", "\(directory)/redis.log", "--enable-debug-command", "yes",
            ])
            do {
                try waitUntilReady(server, port: port, password: password)
                return (port, server)
            } catch {
                lastError = error
                kill(server.pid, SIGKILL)
                server.wait()
            }
        }
        throw lastError!
    }

    deinit {
        kill(server.pid, SIGKILL)
        server.wait()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func waitUntilReady(_ server: ChildProcess, port: Int, password: String) throws {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if server.poll() != nil { throw RedisFailed(message: "redis-server exited at start") }
            if (try? cli(port: port, password: password, ["PING"])) == "PONG" { return }
            usleep(50_000)
        }
        throw RedisFailed(message: "redis-server on port \(port) did not answer")
    }

    /// redis-cli against this server (the password through the environment, not argv).
    @discardableResult
    func cli(_ arguments: String...) throws -> String {
        try Self.cli(port: port, password: password, arguments)
    }

    private static func cli(port: Int, password: String, _ arguments: [String]) throws -> String {
        let result = try ChildProcess.run(["redis-cli", "-h", "127.0.0.1", "-p", "\(port)"] + arguments,
                                          environment: ["REDISCLI_AUTH": password])
        guard result.exit.succeeded else { throw RedisFailed(message: "redis-cli \(arguments): \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    struct RedisFailed: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}
