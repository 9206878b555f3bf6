import DrctlTestSupport
@testable import DrctlStorage

/// A small Python HTTP relay in front of moto (the tests' fault, drop and paging proxies): the
/// script prints its port on its first line and answers `GET /__stats` with what it counted.
final class RelayProcess {
    private let server: LoopbackScript
    var port: Int { server.port }

    init(script: String, arguments: [String], environment: [String: String] = [:]) throws {
        server = try LoopbackScript("the relay", script: script, arguments: arguments, environment: environment)
    }

    /// The body of `GET /__stats`.
    func stats() throws -> String {
        let (_, body) = try HTTPClient().perform(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/__stats"))
        return String(decoding: body, as: UTF8.self)
    }
}
