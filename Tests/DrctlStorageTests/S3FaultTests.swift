import Foundation
import Testing
import DrctlCrypto
import DrctlPipeline
import DrctlSources
@testable import DrctlStorage

/// A relay in front of moto that injects faults, deterministically by request number: request n
/// (1-based, `/__stats` not counted) is faulted when `n % every == 0`, with the next fault of
/// `faults`, in turn:
/// - `500`: 500 InternalError (S3's XML), not relayed;
/// - `503`: 503 SlowDown (S3's XML), not relayed;
/// - `reset`: the connection is reset (RST) before any answer, not relayed;
/// - `stall`: nothing is sent for 3 s, then the connection is closed, not relayed;
/// - `applied-reset`: relayed to moto, then the connection is reset instead of answering
///   (except CreateMultipartUpload, whose retry would leave an upload behind: see the report);
/// - `corrupt`: one byte of the body is flipped, as by a faulty network or proxy on the way.
/// Like AWS (and unlike moto), the relay checks every body against the digests its request
/// carries before relaying it: 400 BadDigest when `x-amz-checksum-sha256` does not match,
/// 400 XAmzContentSHA256Mismatch when `x-amz-content-sha256` does not.
/// `every: 1, faults: ["503"]` answers every request with SlowDown.
/// With `refuseChecksums`, the relay is an endpoint without additional checksums, as Backblaze B2
/// is: a request with an `x-amz-checksum-*` or `x-amz-sdk-checksum-*` header, or a part's
/// `<ChecksumSHA256>`, gets 400 InvalidArgument "Unsupported header ... received for this API call."
/// `GET /__stats` returns "requests faults most-parts-at-once checksums-verified". With `holdParts`, every UploadPart
/// is held that many seconds before it is relayed (to see parts in flight together).
final class FaultProxy {
    private let relay: RelayProcess
    var port: Int { relay.port }

    static let script = #"""
import base64, hashlib, http.client, json, os, socket, struct, sys, threading, time
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
upstream = int(sys.argv[1]); every = int(sys.argv[2]); faults = json.loads(sys.argv[3])
state = {"n": 0, "faults": 0, "parts": 0, "most": 0, "verified": 0}; lock = threading.Lock()
hold = float(os.environ.get("HOLD_PARTS", "0"))
refuse_checksums = os.environ.get("REFUSE_CHECKSUMS") == "1"

def xml(code, message):
    return ('<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message>'
            '<RequestId>fault</RequestId></Error>' % (code, message)).encode()

class Relay(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args): pass
    def answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD": self.wfile.write(body)
        self.close_connection = True
    def reset(self):
        self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True
    def digest_refusal(self, data):
        body = data or b""
        checksum = self.headers.get("x-amz-checksum-sha256")
        if checksum is not None:
            if base64.b64encode(hashlib.sha256(body).digest()).decode() != checksum:
                return xml("BadDigest", "The SHA256 you specified did not match the calculated checksum.")
            with lock: state["verified"] += 1
        content = self.headers.get("x-amz-content-sha256", "")
        if len(content) == 64 and hashlib.sha256(body).hexdigest() != content:
            return xml("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.")
        return None
    def forward(self, data):
        conn = http.client.HTTPConnection("127.0.0.1", upstream)
        conn.request(self.command, self.path, body=data, headers={k: v for k, v in self.headers.items()})
        reply = conn.getresponse(); body = reply.read(); conn.close()
        return reply, body
    def relay(self):
        if self.path == "/__stats":
            body = ("%d %d %d %d" % (state["n"], state["faults"], state["most"], state["verified"])).encode()
            self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
            self.wfile.write(body); return
        n = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(n) if n else None
        if refuse_checksums:
            names = [k for k in self.headers.keys() if k.lower().startswith(("x-amz-checksum", "x-amz-sdk-checksum"))]
            if names or (data and b"<ChecksumSHA256>" in data):
                header = names[0].lower() if names else "ChecksumSHA256"
                return self.answer(400, xml("InvalidArgument", "Unsupported header '%s' received for this API call." % header))
        with lock:
            state["n"] += 1
            fault = None
            if state["n"] % every == 0:
                fault = faults[state["faults"] % len(faults)]; state["faults"] += 1
        if fault == "applied-reset" and self.command == "POST" and self.path.endswith("?uploads"):
            fault = "reset"
        if fault == "500": return self.answer(500, xml("InternalError", "We encountered an internal error. Please try again."))
        if fault == "503": return self.answer(503, xml("SlowDown", "Please reduce your request rate."))
        if fault == "reset": return self.reset()
        if fault == "stall":
            time.sleep(3); self.close_connection = True; return
        if fault == "corrupt" and data:
            data = data[:len(data) // 2] + bytes([data[len(data) // 2] ^ 0x20]) + data[len(data) // 2 + 1:]
        refusal = self.digest_refusal(data)
        if refusal: return self.answer(400, refusal)
        part = hold > 0 and self.command == "PUT" and "partNumber=" in self.path
        if part:
            with lock: state["parts"] += 1; state["most"] = max(state["most"], state["parts"])
            time.sleep(hold)
        reply, body = self.forward(data)
        if part:
            with lock: state["parts"] -= 1
        if fault == "applied-reset": return self.reset()
        self.send_response(reply.status)
        for k, v in reply.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "server", "date"): self.send_header(k, v)
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD": self.wfile.write(body)
        self.close_connection = True
    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = relay

server = ThreadingHTTPServer(("127.0.0.1", 0), Relay)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
"""#

    init(upstream: Int, every: Int, faults: [String], holdParts: Double = 0, refuseChecksums: Bool = false) throws {
        let plan = "[" + faults.map { "\"\($0)\"" }.joined(separator: ",") + "]"
        relay = try RelayProcess(script: Self.script, arguments: [String(upstream), String(every), plan],
                                 environment: ["HOLD_PARTS": String(holdParts), "REFUSE_CHECKSUMS": refuseChecksums ? "1" : "0"])
    }

    /// Requests relayed or faulted so far, faults injected, the most UploadParts held at once, and
    /// the bodies whose `x-amz-checksum-sha256` was checked and matched.
    func stats() throws -> (requests: Int, faults: Int, partsAtOnce: Int, checksumsVerified: Int) {
        let numbers = try relay.stats().split(separator: " ").compactMap { Int($0) }
        return (numbers[0], numbers[1], numbers[2], numbers[3])
    }
}

/// The store through `proxy`, with a 1 s stall timeout.
func s3Store(through proxy: FaultProxy, bucket: String, credentials: S3Credentials = MotoServer.anyCredentials,
             deadline: Double = 60) throws -> S3ObjectStore {
    var settings = HTTPSettings()
    settings.stallTimeout = 1
    var store = try S3ObjectStore(endpoint: "http://127.0.0.1:\(proxy.port)", region: MotoServer.region, bucket: bucket,
                                  prefix: "", pathStyle: true, credentials: credentials, settings: settings,
                                  partSize: 5 << 20)
    store.readWindow = 3 << 20
    store.retryDeadline = deadline
    return store
}

@Suite(.serialized) final class S3FaultTests {
    let moto: MotoServer
    let bucket = "drctl-faults"

    init() throws {
        moto = try MotoServer()
        try moto.createBucket(bucket)
    }

    @Test func aMultipartWriteAndReadSurviveFaults() throws {
        let proxy = try FaultProxy(upstream: moto.port, every: 3, faults: ["500", "503", "reset", "stall", "applied-reset"])
        let store = try s3Store(through: proxy, bucket: bucket)
        let data = s3TestBytes(20 << 20, seed: 77)
        try s3Write(store, "mp/big", data)
        #expect(try s3Read(store, "mp/big") == data)
        try store.put("mp/small", bytes: Array("small object".utf8))
        #expect(try store.get("mp/small") == Array("small object".utf8))
        #expect(try store.list(prefix: "mp/").map(\.key) == ["mp/big", "mp/small"])
        let stats = try proxy.stats()
        #expect(stats.faults >= 5, "\(stats)")
        #expect(store.retries >= stats.faults - 1, "retries \(store.retries), \(stats)")
        #expect(store.retries > 0)
        #expect(try moto.store(bucket: bucket).pendingUploads().isEmpty)
    }

    /// A body that arrives corrupted is refused (BadDigest, as AWS does) and sent again from the
    /// part's buffer; what is stored is what was written.
    @Test func corruptedBodiesAreRefusedAndSentAgain() throws {
        let proxy = try FaultProxy(upstream: moto.port, every: 2, faults: ["corrupt"])
        let store = try s3Store(through: proxy, bucket: bucket)
        let data = s3TestBytes(12 << 20, seed: 41)
        try s3Write(store, "corrupt/big", data)
        try store.put("corrupt/small", bytes: Array("small object".utf8))
        #expect(try s3Read(moto.store(bucket: bucket), "corrupt/big") == data)
        #expect(try moto.store(bucket: bucket).get("corrupt/small") == Array("small object".utf8))
        let stats = try proxy.stats()
        // Three parts and the small PUT carry checksums, each verified once it arrived intact.
        #expect(stats.checksumsVerified == 4, "\(stats)")
        #expect(stats.faults >= 2 && store.retries >= 2, "retries \(store.retries), \(stats)")
        #expect(try moto.store(bucket: bucket).pendingUploads().isEmpty)
    }

    @Test func aBodyThatKeepsArrivingCorruptedFailsClearly() throws {
        let proxy = try FaultProxy(upstream: moto.port, every: 1, faults: ["corrupt"])
        var store = try s3Store(through: proxy, bucket: bucket)
        store.retryPolicy.maxAttempts = 3
        let error = #expect(throws: StorageError.self) { try store.put("never-intact", bytes: s3TestBytes(1000, seed: 9)) }
        let text = "\(error!)"
        #expect(text.contains("did not match its digest") && text.contains("S3 BadDigest, HTTP 400"), "\(text)")
        #expect(text.contains("gave up after 3 attempts"), "\(text)")
        #expect(store.retries == 2)
        // A multipart write too: its parts never get through, its upload is aborted.
        let big = #expect(throws: StorageError.self) { try s3Write(store, "never-intact-big", s3TestBytes(6 << 20, seed: 10)) }
        #expect("\(big!)".contains("BadDigest"), "\(big!)")
        #expect(try moto.store(bucket: bucket).pendingUploads().isEmpty)
        #expect(try moto.store(bucket: bucket).stat("never-intact") == nil)
        #expect(try moto.store(bucket: bucket).stat("never-intact-big") == nil)
    }

    /// Refused at once with the setting to change named; with `checksums: false` the same endpoint
    /// takes single PUTs and multipart uploads.
    @Test func anEndpointThatRefusesChecksumsIsNamedAndServedWithout() throws {
        let proxy = try FaultProxy(upstream: moto.port, every: 1_000_000, faults: ["none"], refuseChecksums: true)
        let store = try s3Store(through: proxy, bucket: bucket)
        let error = #expect(throws: StorageError.self) { try store.put("b2/small", bytes: [1, 2, 3]) }
        #expect("\(error!)".contains("set `checksums: false` on this region") && "\(error!)".contains("S3 InvalidArgument, HTTP 400"),
                "\(error!)")
        #expect(store.retries == 0)
        let big = #expect(throws: StorageError.self) { try s3Write(store, "b2/big", s3TestBytes(6 << 20, seed: 12)) }
        #expect("\(big!)".contains("`checksums: false`"), "\(big!)")
        var plain = try s3Store(through: proxy, bucket: bucket)
        plain.additionalChecksums = false
        let data = s3TestBytes(12 << 20, seed: 13)
        try s3Write(plain, "b2/big", data)
        try plain.put("b2/small", bytes: [1, 2, 3])
        #expect(try s3Read(plain, "b2/big") == data)
        #expect(try plain.get("b2/small") == [1, 2, 3])
        #expect(try moto.store(bucket: bucket).pendingUploads().isEmpty)
    }

    @Test func aSinglePutWhoseAnswerIsLostIsNotAConflict() throws {
        // Request 1 (the PUT) is carried out by moto, then its answer is lost; the retry gets 412.
        let first = try FaultProxy(upstream: moto.port, every: 1, faults: ["applied-reset", "none", "none", "none"])
        let store = try s3Store(through: first, bucket: bucket)
        try store.put("lost-answer", bytes: Array("once".utf8))
        #expect(store.retries == 1)
        #expect(try moto.store(bucket: bucket).get("lost-answer") == Array("once".utf8))
        // A real conflict is still one.
        let again = try s3Store(through: first, bucket: bucket)
        let error = #expect(throws: StorageError.self) { try again.put("lost-answer", bytes: Array("twice".utf8)) }
        #expect(error == .alreadyExists(key: "lost-answer", location: again.location))
    }

    @Test func aCompleteWhoseAnswerIsLostIsNotAFailure() throws {
        // 6 MiB: CreateMultipartUpload (1), part 1 (2), part 2 (3), Complete (4) is lost after moto did it.
        let proxy = try FaultProxy(upstream: moto.port, every: 4, faults: ["applied-reset", "none"])
        let store = try s3Store(through: proxy, bucket: bucket)
        let data = s3TestBytes(6 << 20, seed: 5)
        try s3Write(store, "lost-complete", data)
        #expect(store.retries >= 1)
        #expect(try s3Read(moto.store(bucket: bucket), "lost-complete") == data)
        #expect(try moto.store(bucket: bucket).pendingUploads().isEmpty)
    }

    @Test func aServerThatKeepsSlowingDownFailsAtTheDeadline() throws {
        let proxy = try FaultProxy(upstream: moto.port, every: 1, faults: ["503"])
        let store = try s3Store(through: proxy, bucket: bucket, deadline: 2)
        let started = Date()
        let error = #expect(throws: StorageError.self) { try s3Write(store, "never", s3TestBytes(100, seed: 1)) }
        let elapsed = Date().timeIntervalSince(started)
        let text = "\(error!)"
        #expect(text.contains("SlowDown") && text.contains("HTTP 503"), "\(text)")
        #expect(text.contains("gave up after") && text.contains("attempts"), "\(text)")
        #expect(elapsed >= 1.5 && elapsed < 10, "\(elapsed)")
        // A multipart write too: its first request fails, nothing is left behind.
        let big = #expect(throws: StorageError.self) { try s3Write(store, "never-big", s3TestBytes(6 << 20, seed: 2)) }
        #expect("\(big!)".contains("SlowDown"))
        #expect(try moto.store(bucket: bucket).pendingUploads().isEmpty)
        #expect(try moto.store(bucket: bucket).stat("never") == nil)
    }

    @Test func attemptsAreBounded() throws {
        let proxy = try FaultProxy(upstream: moto.port, every: 1, faults: ["500"])
        var store = try s3Store(through: proxy, bucket: bucket)
        store.retryPolicy.maxAttempts = 3
        let error = #expect(throws: StorageError.self) { _ = try store.list(prefix: "") }
        #expect("\(error!)".contains("InternalError") && "\(error!)".contains("gave up after 3 attempts"), "\(error!)")
        #expect(store.retries == 2)
        #expect(try proxy.stats().requests == 3)
    }

    @Test func backoffIsFullJitterUnderTheCap() {
        let policy = S3RetryPolicy()
        for attempt in 1...12 {
            let ceiling = min(5, 0.1 * Double(1 << (attempt - 1)))
            for _ in 0..<50 {
                let pause = policy.backoff(after: attempt)
                #expect(pause >= 0 && pause <= ceiling)
            }
        }
    }

    @Test func aRefusedConnectionIsNotRetried() throws {
        let port = try MotoServer.freePort()
        var store = try S3ObjectStore(endpoint: "http://127.0.0.1:\(port)", region: MotoServer.region, bucket: bucket,
                                      prefix: "", pathStyle: true, credentials: MotoServer.anyCredentials)
        store.retryDeadline = 30
        let started = Date()
        #expect(throws: StorageError.self) { _ = try store.stat("x") }
        #expect(store.retries == 0)
        #expect(Date().timeIntervalSince(started) < 5)
    }
}

/// Through the fault proxy, moto enforcing signatures: authentication errors are not retried.
@Suite(.serialized) final class S3FaultSignedTests {
    let moto: MotoServer
    let credentials: S3Credentials
    let bucket = "drctl-faults-signed"

    init() throws {
        moto = try MotoServer(noAuthActions: 3)
        credentials = try moto.createIAMUser("drctl")
        try moto.createBucket(bucket, credentials: credentials)
    }

    @Test func aWrongSecretFailsAtOnce() throws {
        let proxy = try FaultProxy(upstream: moto.port, every: 3, faults: ["503"])
        let wrong = S3Credentials(accessKeyID: credentials.accessKeyID, secretAccessKey: "wrong" + credentials.secretAccessKey)
        let store = try s3Store(through: proxy, bucket: bucket, credentials: wrong)
        let error = #expect(throws: StorageError.self) { try store.put("k", bytes: [1]) }
        #expect("\(error!)".contains("signature mismatch: check the secret access key"), "\(error!)")
        #expect(store.retries == 0)
        #expect(try proxy.stats().requests == 1)
        // The right key through the same proxy works despite its faults.
        let good = try s3Store(through: proxy, bucket: bucket, credentials: credentials)
        let data = s3TestBytes((5 << 20) + 99, seed: 3)
        try s3Write(good, "signed", data)
        #expect(try s3Read(good, "signed") == data)
        #expect(good.retries > 0)
        #expect(try moto.store(bucket: bucket, credentials: credentials).pendingUploads().isEmpty)
    }
}
