import Foundation
import Testing
import DrctlCrypto
import DrctlPipeline
import DrctlSources
import DrctlTestSupport
@testable import DrctlStorage

/// A relay in front of moto that cuts ranged GETs short: for a range starting at offset `o`, the
/// first `drops[o]` answers send their headers and half the body, then close the connection.
/// `GET /__stats` returns the ranges requested, one per line.
final class DroppingProxy {
    private let relay: LoopbackScript
    var port: Int { relay.port }

    static let script = #"""
import json, sys, threading
upstream = int(sys.argv[1]); drops = {int(k): v for k, v in json.loads(sys.argv[2]).items()}
ranges = []; lock = threading.Lock()

class Relay(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args): pass
    def relay(self):
        if self.path == "/__stats": return send_text(self, "\n".join(ranges))
        reply, body = forward(self, upstream, request_body(self))
        rng = self.headers.get("Range")
        cut = False
        if self.command == "GET" and rng:
            start = int(rng.split("=")[1].split("-")[0])
            with lock:
                ranges.append(rng)
                if drops.get(start, 0) > 0 and len(body) > 1:
                    drops[start] -= 1; cut = True
        send_on(self, reply, body, sent=body[: len(body) // 2] if cut else None)
    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = relay

serve(Relay)
"""#

    init(upstream: Int, drops: [UInt64: Int]) throws {
        let plan = "{" + drops.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ",") + "}"
        relay = try LoopbackScript("the dropping proxy", script: RelayScript.helpers + Self.script, arguments: [String(upstream), plan])
    }

    /// The `Range` headers of the GETs relayed so far.
    func ranges() throws -> [String] {
        try relay.get("/__stats").split(separator: "\n").map(String.init)
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
        // Window 2 twice, window 3 four times (three retries, within the store's policy), the others once.
        let expected = [windows[0], windows[1], windows[1], windows[2], windows[2], windows[2], windows[2], windows[3]]
        #expect(try proxy.ranges().filter { $0 != "bytes=0-0" } == expected)
    }

    /// Within the store's retry policy (here 4 attempts): a window cut short every time is an error.
    @Test func aWindowThatKeepsFailingIsAnError() throws {
        let proxy = try DroppingProxy(upstream: moto.port, drops: [1 << 20: 4])
        var store = try store(through: proxy)
        store.retryPolicy.maxAttempts = 4
        let error = #expect(throws: StorageError.self) { _ = try s3Read(store, "obj") }
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains("short answer") || text.contains("transfer failed with the S3 endpoint"), "\(text)")
    }
}
