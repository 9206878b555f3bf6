import DrctlStorage

/// Pushes one run's metrics to a Pushgateway: `PUT <url>/metrics/job/drctl_<command>/target/<target>`
/// replaces that group, so each command and target keeps its own series there too.
public struct PushgatewayClient: Sendable {
    public let url: String

    public init(url: String) {
        self.url = url
    }

    public func groupURL(command: String, target: String) -> String {
        let encoded = target.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(.init(charactersIn: "/"))) ?? target
        return "\(url)/metrics/job/drctl_\(command)/target/\(encoded)"
    }

    /// Blocking (libcurl): call it off the cooperative pool.
    public func push(_ text: String, command: String, target: String) throws {
        let request = HTTPRequest(method: "PUT", url: groupURL(command: command, target: target),
                                  headers: [("Content-Type", TextExposition.contentType)],
                                  body: HTTPRequestBody(bytes: Array(text.utf8)))
        let (response, body) = try HTTPClient().perform(request, limit: 64 << 10)
        guard (200..<300).contains(response.status) else {
            throw MetricsError.push(url: url, status: response.status, body: String(decoding: body.prefix(300), as: UTF8.self))
        }
    }
}
