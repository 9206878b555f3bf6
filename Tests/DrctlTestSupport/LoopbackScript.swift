import Glibc
import DrctlSources

/// A Python server the tests write themselves (`PythonTools.python -c script arguments...`) on a
/// free loopback port: the script binds port 0 and prints the port it got on its first line.
/// Killed when released.
public final class LoopbackScript: Sendable {
    public let port: Int
    private let process: ChildProcess

    public init(_ name: String, script: String, arguments: [String] = [], environment: [String: String] = [:]) throws {
        process = try ChildProcess(argv: [try PythonTools.python, "-c", script] + arguments, environment: .inherited(adding: environment))
        guard let line = process.readLine(), let port = Int(line.trimmingCharacters(in: .whitespaces)) else {
            kill(process.pid, SIGKILL)
            process.wait()
            throw TestFailure("\(name) did not start: \(process.stderr)")
        }
        self.port = port
    }

    /// The body of `GET path` (a relay's `/__stats`).
    public func get(_ path: String) throws -> String {
        let run = try ChildProcess.run(["curl", "-sf", "http://127.0.0.1:\(port)\(path)"])
        guard run.exit.succeeded else { throw TestFailure("GET \(path) on port \(port): \(run.stderr)") }
        return run.stdout
    }

    deinit {
        kill(process.pid, SIGKILL)
        process.wait()
    }
}
