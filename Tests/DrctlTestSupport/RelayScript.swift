/// Python the tests' relays in front of moto share (`RelayScript.helpers`, put before a relay's
/// own script): read a request's body, send the request on as received, pass the answer back
/// (closing the connection), answer `GET /__stats`, and serve on a free loopback port (or the one asked for), printing
/// it first as `LoopbackScript` expects.
public enum RelayScript {
    public static let helpers = #"""
    import http.client, os
    from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler

    def request_body(handler):
        n = int(handler.headers.get("Content-Length", "0"))
        return handler.rfile.read(n) if n else None

    # The request as received, sent on to the upstream port: its answer and whole body.
    def forward(handler, upstream, data):
        conn = http.client.HTTPConnection("127.0.0.1", upstream)
        conn.request(handler.command, handler.path, body=data, headers={k: v for k, v in handler.headers.items()})
        reply = conn.getresponse(); body = reply.read(); conn.close()
        return reply, body

    # upstream's status and headers (hop-by-hop ones dropped), a Content-Length for `body` (a HEAD
    # keeps upstream's), then `sent` (default: all of `body`); the connection closes.
    def send_on(handler, reply, body, sent=None):
        handler.send_response(reply.status)
        for k, v in reply.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "server", "date", "content-length"): handler.send_header(k, v)
        handler.send_header("Content-Length", reply.getheader("Content-Length", "0") if handler.command == "HEAD" else str(len(body)))
        handler.send_header("Connection", "close")
        handler.end_headers()
        if handler.command != "HEAD": handler.wfile.write(body if sent is None else sent)
        handler.close_connection = True

    # A 200 answer of `text`: what a relay's GET /__stats returns.
    def send_text(handler, text):
        body = text.encode()
        handler.send_response(200); handler.send_header("Content-Length", str(len(body))); handler.end_headers()
        handler.wfile.write(body)

    # On the port in RELAY_PORT (a relay started again where an earlier one was), else a free one.
    def serve(handler_class, wrap=lambda sock: sock):
        server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("RELAY_PORT", "0"))), handler_class)
        server.daemon_threads = True
        server.socket = wrap(server.socket)
        print(server.server_address[1], flush=True)
        server.serve_forever()

    """#
}
