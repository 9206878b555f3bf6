import Foundation
import Synchronization
import Testing
import DrctlJobs

/// `/metrics` and `/healthz` over a real socket, asked by curl.
@Suite struct StatusEndpointTests {
    /// (HTTP status, body) of `curl URL`.
    func get(_ url: String, method: String = "GET") throws -> (Int, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-s", "-X", method, "-w", "\n%{http_code}", "--max-time", "10", url]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? -1, lines.dropLast().joined(separator: "\n"))
    }

    @Test func servesMetricsAndHealth() throws {
        let healthy = Atomic<Bool>(true)
        let endpoint = try StatusEndpoint(listen: "127.0.0.1:0", routes: .init(
            metrics: { "# TYPE drctl_up gauge\ndrctl_up 1\n" },
            health: { healthy.load(ordering: .acquiring) ? (true, "ok") : (false, "scheduler stopped") }))
        defer { endpoint.stop() }
        #expect(endpoint.address.hasPrefix("127.0.0.1:") && !endpoint.address.hasSuffix(":0"))
        let base = "http://\(endpoint.address)"
        let metrics = try get("\(base)/metrics")
        #expect(metrics.0 == 200 && metrics.1.contains("drctl_up 1"), "\(metrics)")
        #expect(try get("\(base)/healthz") == (200, "ok\n"))
        healthy.store(false, ordering: .releasing)
        #expect(try get("\(base)/healthz") == (503, "scheduler stopped\n"))
        #expect(try get("\(base)/other").0 == 404)
        #expect(try get("\(base)/metrics", method: "POST").0 == 405)
    }

    @Test func addressErrorsAreClear() throws {
        #expect(throws: AgentError.self) { try StatusEndpoint(listen: "localhost", routes: .init(metrics: { "" }, health: { (true, "") })) }
        let first = try StatusEndpoint(listen: "127.0.0.1:0", routes: .init(metrics: { "" }, health: { (true, "") }))
        defer { first.stop() }
        do {
            let second = try StatusEndpoint(listen: first.address, routes: .init(metrics: { "" }, health: { (true, "") }))
            second.stop()
            Issue.record("a second endpoint on \(first.address) must fail")
        } catch let error as AgentError {
            #expect("\(error)".contains("cannot listen on \(first.address)") && "\(error)".contains("in use"), "\(error)")
        }
    }
}
