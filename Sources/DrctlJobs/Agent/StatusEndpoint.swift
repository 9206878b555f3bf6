import Foundation
import Glibc
import Synchronization

/// The agent's HTTP endpoint: `GET /metrics` (Prometheus text format) and `GET /healthz`.
/// Hand-written on purpose: two read-only routes do not justify an HTTP server framework and
/// its build time. One dedicated thread accepts and answers connections one at a time; each
/// connection gets a 5 s read deadline, so a stuck client cannot stall the next scrape long.
public final class StatusEndpoint: Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var contentType: String
        public var body: String

        public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: String) {
            self.status = status
            self.contentType = contentType
            self.body = body
        }
    }

    /// Called on the endpoint's thread for `/metrics` and `/healthz`.
    public struct Routes: Sendable {
        public var metrics: @Sendable () -> String
        public var health: @Sendable () -> (healthy: Bool, detail: String)

        public init(metrics: @escaping @Sendable () -> String,
                    health: @escaping @Sendable () -> (healthy: Bool, detail: String)) {
            self.metrics = metrics
            self.health = health
        }
    }

    /// The bound address, e.g. "127.0.0.1:9187" (port resolved when 0 was asked for).
    public let address: String
    private let socket: Int32
    private let routes: Routes
    private let stopped = Atomic<Bool>(false)

    /// Binds `host:port` (an IPv4 address; port 0 picks a free one) and starts answering.
    public init(listen: String, routes: Routes) throws {
        guard let colon = listen.lastIndex(of: ":"), let port = UInt16(listen[listen.index(after: colon)...]) else {
            throw AgentError.badListenAddress(listen, reason: "expected HOST:PORT, e.g. 127.0.0.1:9187")
        }
        let host = String(listen[..<colon])
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw AgentError.badListenAddress(listen, reason: "'\(host)' is not an IPv4 address")
        }
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw AgentError.listenFailed(listen, errno: errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, 16) == 0 else {
            let error = errno
            close(fd)
            throw AgentError.listenFailed(listen, errno: error)
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.address = "\(host):\(UInt16(bigEndian: actual.sin_port))"
        self.socket = fd
        self.routes = routes
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "drctl-status-endpoint"
        thread.start()
    }

    /// Stops accepting; the socket is closed.
    public func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        shutdown(socket, Int32(SHUT_RDWR))
        close(socket)
    }

    private func acceptLoop() {
        while !stopped.load(ordering: .acquiring) {
            let client = accept(socket, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            answer(client)
            close(client)
        }
    }

    private func answer(_ client: Int32) {
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard let requestLine = Self.readRequestHead(client)?.split(separator: "\r\n").first else { return }
        let parts = requestLine.split(separator: " ")
        let response: Response
        if parts.count < 2 {
            response = Response(status: 400, body: "bad request\n")
        } else if parts[0] != "GET" && parts[0] != "HEAD" {
            response = Response(status: 405, body: "only GET\n")
        } else {
            switch parts[1].split(separator: "?").first.map(String.init) ?? "" {
            case "/metrics":
                response = Response(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: routes.metrics())
            case "/healthz":
                let health = routes.health()
                response = Response(status: health.healthy ? 200 : 503, body: health.detail + "\n")
            default:
                response = Response(status: 404, body: "not found: /metrics and /healthz are served\n")
            }
        }
        let body = Array(response.body.utf8)
        let head = "HTTP/1.1 \(response.status) \(Self.reason(response.status))\r\nContent-Type: \(response.contentType)\r\n"
            + "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        var bytes = Array(head.utf8)
        if parts.first != "HEAD" { bytes += body }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { return }
            offset += written
        }
    }

    /// Up to the blank line ending the request head (at most 16 KiB), or nil on a timeout/close.
    private static func readRequestHead(_ client: Int32) -> String? {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while data.count < 16 << 10 {
            let count = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return nil }
            data += buffer[..<count]
            let text = String(decoding: data, as: UTF8.self)
            if text.contains("\r\n\r\n") { return text }
        }
        return String(decoding: data, as: UTF8.self)
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 400: return "Bad Request"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 503: return "Service Unavailable"
        default: return "Status"
        }
    }
}
