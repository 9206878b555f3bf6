import Foundation
import Glibc
import DrctlSources
import Synchronization

/// A throwaway redis-server for one drill, loading the restored RDB from the scratch
/// directory: 127.0.0.1 only, a free port, a random password, no persistence of its own.
/// Its pid is written to `redis.pid` so a later drill can stop it if drctl is killed.
final class ScratchRedis: Sendable {
    let port: Int
    let password: String
    private let process: ChildProcess
    private let scratch: ScratchDirectory
    private let stopped = Atomic(false)

    var endpoint: RedisEndpoint { RedisEndpoint(host: "127.0.0.1", port: port, password: password) }

    /// Starts the server on `<scratch>/<rdbName>` and waits until the data set is loaded.
    init(in scratch: ScratchDirectory, rdbName: String, timeout: TimeInterval = 600) throws {
        self.scratch = scratch
        password = ScratchPassword.random()
        port = try LoopbackPort.free()
        let log = "\(scratch.path)/redis.log"
        // The password goes through a config file on stdin-less start: never on the argv.
        let config = "\(scratch.path)/redis.conf"
        try "requirepass \(password)\n".write(toFile: config, atomically: false, encoding: .utf8)
        chmod(config, 0o600)
        process = try ChildProcess(argv: [
            "redis-server", config, "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", scratch.path, "--dbfilename", rdbName, "--daemonize", "no", "--logfile", log,
        ], environment: .minimal())   // a server: none of drctl's variables, no secret
        if let identity = ProcessIdentity.of(process.pid) {
            try? identity.text.write(toFile: scratch.redisPIDFile, atomically: true, encoding: .utf8)
        }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if process.poll() != nil {
                let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                throw DrillError.instanceFailed(what: "redis-server", log: String(text.suffix(1500)))
            }
            if case .ready? = try? RedisProbe.ping(endpoint) { return }
            guard Date() < deadline else {
                stop()
                throw DrillError.instanceFailed(what: "redis-server", log: "not loaded within \(Int(timeout)) s")
            }
            usleep(20_000)
        }
    }

    func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        if process.poll() == nil {
            kill(process.pid, SIGKILL)
            process.wait()
        }
        unlink(scratch.redisPIDFile)
    }
}
