import Foundation
import Glibc
import DrctlSources

/// A real HTTP server on a free loopback port (Python's http.server in a child process) that
/// records every request it gets — method, path, headers, body — and answers the first
/// `failFirst` of them with 500, the rest with 200. Stopped when released.
public final class HTTPReceiver: Sendable {
    public var port: Int { server.port }
    private let log: String
    private let server: LoopbackScript

    static let script = #"""
    import http.server, json, sys
    log, fail_first = sys.argv[1], int(sys.argv[2])
    count = 0
    class Handler(http.server.BaseHTTPRequestHandler):
        def handle_one(self):
            global count
            length = int(self.headers.get('Content-Length') or 0)
            body = self.rfile.read(length).decode('utf-8', 'replace')
            count += 1
            with open(log, 'a') as f:
                f.write(json.dumps({'method': self.command, 'path': self.path,
                                    'headers': {k.lower(): v for k, v in self.headers.items()}, 'body': body}) + '\n')
            status = 500 if count <= fail_first else 200
            self.send_response(status)
            self.send_header('Content-Length', '0')
            self.end_headers()
        do_PUT = do_POST = handle_one
        def log_message(self, *args): pass
    server = http.server.HTTPServer(('127.0.0.1', 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
    """#

    public init(failFirst: Int = 0) throws {
        log = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-http-\(UUID().uuidString).jsonl").path
        server = try LoopbackScript("the HTTP receiver", script: Self.script, arguments: [log, "\(failFirst)"])
    }

    deinit { unlink(log) }

    public var url: String { "http://127.0.0.1:\(port)" }

    public struct Request: Sendable {
        public let method: String
        public let path: String
        public let headers: [String: String]
        public let body: String
    }

    public var requests: [Request] {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return Request(method: object["method"] as? String ?? "", path: object["path"] as? String ?? "",
                           headers: object["headers"] as? [String: String] ?? [:], body: object["body"] as? String ?? "")
        }
    }
}
