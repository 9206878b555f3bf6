import Foundation
import Testing
import DrctlCrypto
import DrctlPipeline
import DrctlSources
@testable import DrctlStorage

/// A relay in front of moto that cuts ranged GETs short: for a range starting at offset `o`, the
/// first `drops[o]` answers send their headers and half the body, then close the connection.
/// `GET /__stats` returns the ranges requested, one per line.
final class DroppingProxy {
    private let relay: RelayProcess
    var port: Int { relay.port }

    static let script = #"""
import http.client, json, sys, threading
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
upstream = int(sys.argv[1]); drops = {int(k): v for k, v in json.loads(sys.argv[2]).items()}
ranges = []; lock = threading.Lock()

class Relay(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args): pass
    def relay(self):
        if self.path == "/__stats":
            body = "\n".join(ranges).encode()
            self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
            self.wfile.write(body); return
        n = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(n) if n else None
        conn = http.client.HTTPConnection("127.0.0.1", upstream)
        conn.request(self.command, self.path, body=data, headers={k: v for k, v in self.headers.items()})
        reply = conn.getresponse(); body = reply.read(); conn.close()
        rng = self.headers.get("Range")
        cut = False
        if self.command == "GET" and rng:
            start = int(rng.split("=")[1].split("-")[0])
            with lock:
                ranges.append(rng)
                if drops.get(start, 0) > 0 and len(body) > 1:
                    drops[start] -= 1; cut = True
        self.send_response(reply.status)
        for k, v in reply.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "server", "date"): self.send_header(k, v)
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD": return
        if cut:
            self.wfile.write(body[: len(body) // 2]); self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)
        self.close_connection = True
    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = relay

server = ThreadingHTTPServer(("127.0.0.1", 0), Relay)
print(server.server_address[1], flush=True)
server.serve_forever()
"""#

    init(upstream: Int, drops: [UInt64: Int]) throws {
        let plan = "{" + drops.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ",") + "}"
        relay = try RelayProcess(script: Self.script, arguments: [String(upstream), plan])
    }

    /// The `Range` headers of the GETs relayed so far.
    func ranges() throws -> [String] {
        try relay.stats().split(separator: "\n").map(String.init)
    }
}

@Suite(.serialized) final class S3RangedReadTests {
    let moto: MotoServer
    let bucket = "drctl-ranges"
    let data = s3TestBytes((3 << 20) + 500_000, seed: 21)

    init() throws {
        moto = try MotoServer()
        try moto.createBucket(bucket)
        try s3Write(moto.store(bucket: bucket), "obj", data)
    }

    func store(through proxy: DroppingProxy) throws -> S3ObjectStore {
        var store = try S3ObjectStore(endpoint: "http://127.0.0.1:\(proxy.port)", region: MotoServer.region, bucket: bucket,
                                      prefix: "", pathStyle: true, credentials: MotoServer.anyCredentials)
        store.readWindow = 1 << 20
        return store
    }

    @Test func aDroppedConnectionRefetchesOnlyTheCurrentWindow() throws {
        let mib = UInt64(1 << 20)
        let proxy = try DroppingProxy(upstream: moto.port, drops: [mib: 1, 2 * mib: 3])
        let back = try s3Read(store(through: proxy), "obj")
        #expect(back == data)
        let last = UInt64(data.count) - 1
        let windows = ["bytes=0-\(mib - 1)", "bytes=\(mib)-\(2 * mib - 1)", "bytes=\(2 * mib)-\(3 * mib - 1)",
                       "bytes=\(3 * mib)-\(last)"]
        // Window 2 twice, window 3 four times (three retries), the others once.
        let expected = [windows[0], windows[1], windows[1], windows[2], windows[2], windows[2], windows[2], windows[3]]
        #expect(try proxy.ranges().filter { $0 != "bytes=0-0" } == expected)
    }

    @Test func aWindowThatKeepsFailingIsAnError() throws {
        let proxy = try DroppingProxy(upstream: moto.port, drops: [1 << 20: 4])
        let error = #expect(throws: StorageError.self) { _ = try s3Read(store(through: proxy), "obj") }
        let text = "\(error!)"
        #expect(text.contains("short answer") || text.contains("transfer failed with the S3 endpoint"), "\(text)")
    }
}
