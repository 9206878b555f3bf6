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
                     "-keyout", "\(directory)/ca.key", "-out", authority, "-days", "2", "-subj", "/CN=drctl test authority",
                     "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"])
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// A server certificate for `names` (subjectAltName entries such as `IP:127.0.0.1`,
    /// `DNS:localhost`) signed by the authority; returns the paths of the certificate and its key.
    public func server(_ label: String, names: [String]) throws -> (certificate: String, key: String) {
        let base = "\(directory)/\(label)"
        try "subjectAltName=\(names.joined(separator: ","))\n".write(toFile: "\(base).ext", atomically: true, encoding: .utf8)
        try openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", "\(base).key", "-out", "\(base).csr", "-subj", "/CN=\(label)"])
        try openssl(["x509", "-req", "-in", "\(base).csr", "-CA", authority, "-CAkey", "\(directory)/ca.key", "-CAcreateserial",
                     "-days", "2", "-extfile", "\(base).ext", "-out", "\(base).pem"])
        return ("\(base).pem", "\(base).key")
    }

    private func openssl(_ arguments: [String]) throws {
        let result = try ChildProcess.run(["openssl"] + arguments)
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
    import ssl, sys
    upstream, certificate, key, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]

    class Relay(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *args): pass
        def relay(self):
            data = request_body(self)
            with open(log, "a") as f: f.write(f"{self.command} {self.path}\n")
            reply, body = forward(self, upstream, data)
            send_on(self, reply, body)
        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = relay

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    serve(Relay, wrap=lambda sock: context.wrap_socket(sock, server_side=True))
    """#

    public init(upstream: Int, certificate: (certificate: String, key: String)) throws {
        log = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-tls-\(UUID().uuidString).log").path
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        server = try LoopbackScript("the TLS proxy", script: RelayScript.helpers + Self.script,
                                    arguments: ["\(upstream)", certificate.certificate, certificate.key, log])
    }

    deinit { unlink(log) }

    public var endpoint: String { "https://127.0.0.1:\(port)" }

    /// "METHOD PATH" of every request relayed so far.
    public func relayed() throws -> [String] {
        try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
    }
}
