import Foundation
import Testing
import DrctlCrypto
import DrctlPipeline
import DrctlSources
import DrctlTestSupport
@testable import DrctlStorage

/// A real HTTP server (Python's http.server) on a loopback port, for the libcurl transport.
final class EchoServer {
    private let server: LoopbackScript
    var port: Int { server.port }

    static let script = #"""
import hashlib, json, socket, sys, time
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args): pass
    def reply(self, status, body, extra=()):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra: self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD": self.wfile.write(body)
    def do_GET(self):
        parts = self.path.split("/")
        if parts[1] == "bytes":
            n = int(parts[2]); self.reply(200, bytes(i % 251 for i in range(n)), [("X-Count", str(n))])
        elif parts[1] == "status":
            self.reply(int(parts[2]), b"status " + parts[2].encode())
        elif parts[1] == "stall":
            self.send_response(200); self.send_header("Content-Length", "100"); self.end_headers()
            self.wfile.write(b"x" * 10); self.wfile.flush(); time.sleep(30)
        elif parts[1] == "reset":
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
        else:
            self.reply(404, b"no")
    do_HEAD = do_GET
    def do_PUT(self):
        n = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(n)
        body = json.dumps({"method": self.command, "path": self.path, "size": len(data),
                           "sha256": hashlib.sha256(data).hexdigest(),
                           "headers": {k.lower(): v for k, v in self.headers.items()}}).encode()
        self.reply(200, body)
    do_POST = do_PUT
    do_DELETE = do_PUT

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""#

    init() throws {
        server = try LoopbackScript("the echo server", script: Self.script)
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }
}

@Suite(.serialized) struct HTTPClientTests {
    let server: EchoServer
    init() throws { server = try EchoServer() }

    @Test func downloadsStreamInPieces() throws {
        let client = HTTPClient()
        var received: [UInt8] = []
        let response = try client.perform(HTTPRequest(method: "GET", url: server.url("/bytes/3000000"))) {
            received.append(contentsOf: $0)
        }
        #expect(response.status == 200)
        #expect(response.header("X-Count") == "3000000")
        #expect(received.count == 3_000_000)
        #expect(received.enumerated().allSatisfy { $0.element == UInt8($0.offset % 251) })
        // The connection is reused for the next request.
        let (again, body) = try client.perform(HTTPRequest(method: "GET", url: server.url("/bytes/10")))
        #expect(again.status == 200 && body.count == 10)
    }

    @Test func uploadsAStreamOfKnownSizeWithExactlyTheGivenHeaders() throws {
        let client = HTTPClient()
        let size = 5_000_001
        var sent = 0
        let body = HTTPRequestBody(size: UInt64(size)) { buffer in
            let count = min(buffer.count, size - sent)
            for index in 0..<count { buffer[index] = UInt8((sent + index) % 7) }
            sent += count
            return count
        }
        let (response, reply) = try client.perform(HTTPRequest(
            method: "PUT", url: server.url("/bucket/key?partNumber=1&uploadId=x"),
            headers: [("x-amz-content-sha256", "abc"), ("Content-Type", "application/octet-stream")], body: body))
        #expect(response.status == 200)
        let echo = try JSONSerialization.jsonObject(with: Data(reply)) as! [String: Any]
        let headers = echo["headers"] as! [String: String]
        #expect(echo["size"] as? Int == size)
        let expected = (0..<size).map { UInt8($0 % 7) }
        #expect(echo["sha256"] as? String == hex(sha256(expected)))
        #expect(echo["path"] as? String == "/bucket/key?partNumber=1&uploadId=x")
        #expect(headers["x-amz-content-sha256"] == "abc")
        #expect(headers["expect"] == nil, "no Expect: 100-continue")
        #expect(headers["content-length"] == "\(size)")
    }

    @Test func statusCodesAreReturnedNotThrown() throws {
        let (response, body) = try HTTPClient().perform(HTTPRequest(method: "GET", url: server.url("/status/503")))
        #expect(response.status == 503)
        #expect(body == Array("status 503".utf8))
    }

    @Test func headHasNoBody() throws {
        let (response, body) = try HTTPClient().perform(HTTPRequest(method: "HEAD", url: server.url("/bytes/1234")))
        #expect(response.status == 200 && body.isEmpty)
        #expect(response.header("content-length") == "1234")
    }

    @Test func refusedConnectionIsATransportError() throws {
        // A port nobody listens on: bind one, close it.
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(probe, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        close(probe)
        #expect {
            _ = try HTTPClient().perform(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/x"))
        } throws: { error in
            guard case HTTPError.transport(_, let code, let message) = error else { return false }
            return code == 7 && message.contains("onnect")
        }
    }

    @Test func stalledTransferTimesOut() throws {
        var settings = HTTPSettings()
        settings.stallTimeout = 1
        let started = Date()
        #expect(throws: HTTPError.self) {
            _ = try HTTPClient(settings: settings).perform(HTTPRequest(method: "GET", url: server.url("/stall")))
        }
        #expect(Date().timeIntervalSince(started) < 10)
    }

    @Test func aBodyConsumerThatThrowsAbortsTheTransfer() throws {
        struct Enough: Error {}
        #expect(throws: Enough.self) {
            _ = try HTTPClient().perform(HTTPRequest(method: "GET", url: server.url("/bytes/5000000"))) { _ in throw Enough() }
        }
    }

    @Test func resetConnectionIsATransportError() throws {
        #expect(throws: HTTPError.self) {
            _ = try HTTPClient().perform(HTTPRequest(method: "GET", url: server.url("/reset")))
        }
    }
}
