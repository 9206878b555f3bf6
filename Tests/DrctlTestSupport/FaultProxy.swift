/// A relay in front of moto that injects faults, deterministically by request number: request n
/// (1-based, `/__stats` not counted) is faulted when `n % every == 0`, with the next fault of
/// `faults`, in turn. Or at random (`init(upstream:seed:rates:)`): each request draws its fault
/// from a generator seeded with `seed`, fault `f` with probability `rates[f]`, as a storm on a
/// busy S3 would (the draws are in the order requests arrive, so threads make runs differ). Faults:
/// - `500`: 500 InternalError (S3's XML), not relayed;
/// - `503`: 503 SlowDown (S3's XML), not relayed;
/// - `reset`: the connection is reset (RST) before any answer, not relayed;
/// - `stall`: nothing is sent for 3 s, then the connection is closed, not relayed;
/// - `applied-reset`: relayed to moto, then the connection is reset instead of answering
///   (except CreateMultipartUpload, whose retry would leave an upload behind: see the report);
/// - `cut`: relayed to moto, then the answer's headers (its full Content-Length) and half its body
///   are sent and the connection is closed: a body cut in the middle (an answer without a body,
///   and CreateMultipartUpload as for `applied-reset`, is reset instead);
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
/// `GET /__requests` returns every request relayed so far, one `METHOD /path?query` a line.
/// With `freezing`, the first request whose `METHOD /path` (before `?`) contains `freezing.request` stops
/// process `freezing.pid` (SIGSTOP: moto, which then answers nothing) before it is relayed: a
/// region that hangs at a chosen moment, e.g. the first data read after the listings.
public final class FaultProxy: Sendable {
    private let server: LoopbackScript
    public var port: Int { server.port }

    static let script = #"""
import base64, hashlib, json, os, socket, struct, sys, threading, time
import random
upstream = int(sys.argv[1]); every = int(sys.argv[2]); faults = json.loads(sys.argv[3])
rates = json.loads(os.environ.get("FAULT_RATES", "{}")); draw = random.Random(int(os.environ.get("FAULT_SEED", "0")))
state = {"n": 0, "faults": 0, "parts": 0, "most": 0, "verified": 0, "log": []}; lock = threading.Lock()
hold = float(os.environ.get("HOLD_PARTS", "0"))
refuse_checksums = os.environ.get("REFUSE_CHECKSUMS") == "1"
freeze_part = os.environ.get("FREEZE_PART", ""); state["freeze_pid"] = int(os.environ.get("FREEZE_PID", "0"))

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
    def relay(self):
        if self.path == "/__stats":
            return send_text(self, "%d %d %d %d" % (state["n"], state["faults"], state["most"], state["verified"]))
        if self.path == "/__requests":
            with lock: return send_text(self, "\n".join(state["log"]))
        data = request_body(self)
        if refuse_checksums:
            names = [k for k in self.headers.keys() if k.lower().startswith(("x-amz-checksum", "x-amz-sdk-checksum"))]
            if names or (data and b"<ChecksumSHA256>" in data):
                header = names[0].lower() if names else "ChecksumSHA256"
                return self.answer(400, xml("InvalidArgument", "Unsupported header '%s' received for this API call." % header))
        with lock:
            if state["freeze_pid"] and freeze_part in self.command + " " + self.path.split("?")[0]:
                import signal
                os.kill(state["freeze_pid"], signal.SIGSTOP); state["freeze_pid"] = 0
            state["n"] += 1
            state["log"].append(self.command + " " + self.path)
            fault = None
            if rates:
                x = draw.random()
                for name, rate in sorted(rates.items()):
                    if x < rate: fault = name; break
                    x -= rate
                if fault: state["faults"] += 1
            elif state["n"] % every == 0:
                fault = faults[state["faults"] % len(faults)]; state["faults"] += 1
        if fault in ("applied-reset", "cut") and self.command == "POST" and self.path.endswith("?uploads"):
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
        reply, body = forward(self, upstream, data)
        if part:
            with lock: state["parts"] -= 1
        if fault == "applied-reset" or (fault == "cut" and (self.command == "HEAD" or len(body) < 2)): return self.reset()
        if fault == "cut":
            return send_on(self, reply, body, sent=body[:len(body) // 2])   # then closed: curl sees a partial file
        send_on(self, reply, body)
    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = relay

serve(Relay)
"""#

    public convenience init(upstream: Int, every: Int, faults: [String], holdParts: Double = 0, refuseChecksums: Bool = false) throws {
        try self.init(upstream: upstream, every: every, faults: faults, rates: [:], seed: 0,
                      holdParts: holdParts, refuseChecksums: refuseChecksums)
    }

    /// A plain relay that stops `pid` (SIGSTOP) at the first request whose `METHOD /path`
    /// contains `request` (e.g. "GET /backups/prod/data/").
    public convenience init(upstream: Int, freezing pid: Int32, atFirst request: String) throws {
        try self.init(upstream: upstream, every: 1_000_000_000, faults: ["500"], rates: [:], seed: 0,
                      holdParts: 0, refuseChecksums: false, freezing: (request, pid))
    }

    /// A plain relay (no faults) on `port` when given: releasing one and starting another on its
    /// port is a region that goes down (connections refused) and comes back with its data.
    public convenience init(relaying upstream: Int, on port: Int? = nil) throws {
        try self.init(upstream: upstream, every: 1_000_000_000, faults: ["500"], rates: [:], seed: 0,
                      holdParts: 0, refuseChecksums: false, port: port)
    }

    /// Faults at random: each request gets fault `f` with probability `rates[f]` (their sum at
    /// most 1), drawn from a generator seeded with `seed`.
    public convenience init(upstream: Int, seed: UInt64, rates: [String: Double]) throws {
        try self.init(upstream: upstream, every: 1, faults: ["none"], rates: rates, seed: seed,
                      holdParts: 0, refuseChecksums: false)
    }

    private init(upstream: Int, every: Int, faults: [String], rates: [String: Double], seed: UInt64,
                 holdParts: Double, refuseChecksums: Bool, freezing: (request: String, pid: Int32)? = nil, port: Int? = nil) throws {
        let plan = "[" + faults.map { "\"\($0)\"" }.joined(separator: ",") + "]"
        let rateTable = "{" + rates.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ",") + "}"
        server = try LoopbackScript("the fault proxy", script: RelayScript.helpers + Self.script, arguments: [String(upstream), String(every), plan],
                                    environment: ["HOLD_PARTS": String(holdParts), "REFUSE_CHECKSUMS": refuseChecksums ? "1" : "0",
                                                  "FAULT_RATES": rateTable, "FAULT_SEED": String(seed),
                                                  "FREEZE_PART": freezing?.request ?? "", "FREEZE_PID": String(freezing?.pid ?? 0),
                                                  "RELAY_PORT": String(port ?? 0)])
    }

    /// Requests relayed or faulted so far, faults injected, the most UploadParts held at once, and
    /// the bodies whose `x-amz-checksum-sha256` was checked and matched.
    public func stats() throws -> (requests: Int, faults: Int, partsAtOnce: Int, checksumsVerified: Int) {
        let text = try server.get("/__stats")
        let numbers = text.split(separator: " ").compactMap { Int($0) }
        guard numbers.count == 4 else { throw TestFailure("fault proxy stats: '\(text)'") }
        return (numbers[0], numbers[1], numbers[2], numbers[3])
    }

    /// Every request relayed so far, oldest first: `METHOD /path?query`.
    public func requests() throws -> [String] {
        try server.get("/__requests").split(separator: "\n").map(String.init)
    }
}
