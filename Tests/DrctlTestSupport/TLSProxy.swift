import Foundation
import Glibc
import DrctlSources

/// A private certificate authority and the certificates it signs, made with the `openssl` command
/// in a scratch directory (removed when released): what a region on a company's own S3 endpoint
/// (MinIO, Ceph) presents.
public final class TestCertificates: Sendable {
    public let directory: String
    /// The authority's certificate: what a region's `ca_file` names.
    public var authority: String { "\(directory)/ca.pem" }

    public init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=drctl test authority",
                     "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"])
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// A server certificate for `names` (subjectAltName entries such as `IP:127.0.0.1`,
    /// `DNS:localhost`) signed by the authority; returns the paths of the certificate and its key.
    public func server(_ label: String, names: [String]) throws -> (certificate: String, key: String) {
        try "subjectAltName=\(names.joined(separator: ","))\n".write(
            toFile: "\(directory)/\(label).ext", atomically: true, encoding: .utf8)
        try openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", "\(label).key", "-out", "\(label).csr", "-subj", "/CN=\(label)"])
        try openssl(["x509", "-req", "-in", "\(label).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                     "-days", "2", "-extfile", "\(label).ext", "-out", "\(label).pem"])
        return ("\(directory)/\(label).pem", "\(directory)/\(label).key")
    }

    private func openssl(_ arguments: [String]) throws {
        let result = try ChildProcess.run(["sh", "-c", "cd \"$0\" && exec openssl \"$@\"", directory] + arguments)
        guard result.exit.succeeded else { throw TestFailure("openssl \(arguments.first ?? ""): \(result.stderr)") }
    }
}

/// An HTTPS endpoint on a free loopback port that relays every request, as received, to a plain
/// HTTP server on `upstream` (moto): S3 over TLS with the certificate given. Each relayed request
/// is recorded (`relayed`), so a test can tell that a refused handshake sent nothing. Stopped when
/// released.
public final class TLSProxy: Sendable {
    public var port: Int { server.port }
    private let log: String
    private let server: LoopbackScript

    static let script = #"""
    import http.client, ssl, sys
    from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
    upstream, certificate, key, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]

    class Relay(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *args): pass
        def relay(self):
            n = int(self.headers.get("Content-Length", "0"))
            data = self.rfile.read(n) if n else None
            with open(log, "a") as f: f.write(f"{self.command} {self.path}\n")
            conn = http.client.HTTPConnection("127.0.0.1", upstream)
            conn.request(self.command, self.path, body=data, headers={k: v for k, v in self.headers.items()})
            reply = conn.getresponse(); body = reply.read(); conn.close()
            self.send_response(reply.status)
            for k, v in reply.getheaders():
                if k.lower() not in ("connection", "transfer-encoding", "server", "date", "content-length"): self.send_header(k, v)
            # A HEAD answer's length is the object's, not of the (empty) body.
            length = reply.getheader("Content-Length", "0") if self.command == "HEAD" else str(len(body))
            self.send_header("Content-Length", length)
            self.end_headers()
            if self.command != "HEAD": self.wfile.write(body)
        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = relay

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Relay)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    server.serve_forever()
    """#

    public init(upstream: Int, certificate: (certificate: String, key: String)) throws {
        log = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-tls-\(UUID().uuidString).log").path
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        server = try LoopbackScript("the TLS proxy", script: Self.script,
                                    arguments: ["\(upstream)", certificate.certificate, certificate.key, log])
    }

    deinit { unlink(log) }

    public var endpoint: String { "https://127.0.0.1:\(port)" }

    /// "METHOD PATH" of every request relayed so far.
    public func relayed() throws -> [String] {
        try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
    }
}
