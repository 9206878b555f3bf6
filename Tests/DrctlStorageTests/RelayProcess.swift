import DrctlSources
@testable import DrctlStorage

/// A small Python HTTP relay in front of moto (the tests' fault, drop and paging proxies): the
/// script prints its port on its first line and answers `GET /__stats` with what it counted.
final class RelayProcess {
    let child: ChildProcess
    let port: Int

    init(script: String, arguments: [String], environment: [String: String] = [:]) throws {
        let child = try ChildProcess(argv: ["python3", "-c", script] + arguments, environment: environment)
        self.child = child
        guard let line = child.readLine(), let port = Int(line.trimmingCharacters(in: .whitespaces)) else {
            throw MotoServer.MotoError("proxy did not start: \(child.stderr)")
        }
        self.port = port
    }

    deinit {
        child.terminate(grace: 1)
        child.wait()
    }

    /// The body of `GET /__stats`.
    func stats() throws -> String {
        let (_, body) = try HTTPClient().perform(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/__stats"))
        return String(decoding: body, as: UTF8.self)
    }
}
