import Foundation
import Testing
import DrctlSources
import DrctlTestSupport
@testable import DrctlStorage

/// moto answers ListMultipartUploads in one page whatever `max-uploads` says. This relay in
/// front of it pages the answer as S3 does: `max-uploads` per page, `key-marker` and
/// `upload-id-marker` to continue, `IsTruncated`, `NextKeyMarker` and `NextUploadIdMarker`.
/// `GET /__stats` returns how many listings it answered.
final class PagingProxy {
    private let relay: LoopbackScript
    var port: Int { relay.port }

    static let script = #"""
import re, sys, threading
from urllib.parse import urlsplit, parse_qs
upstream = int(sys.argv[1]); listings = [0]; lock = threading.Lock()

def field(upload, name):
    return re.search(f"<{name}>(.*?)</{name}>", upload, re.S).group(1)

def page(text, query):
    uploads = sorted(re.findall(r"<Upload>.*?</Upload>", text, re.S), key=lambda u: (field(u, "Key"), field(u, "UploadId")))
    marker = (query.get("key-marker", [""])[0], query.get("upload-id-marker", [""])[0])
    if marker[0]:
        uploads = [u for u in uploads if (field(u, "Key"), field(u, "UploadId")) > marker]
    size = int(query.get("max-uploads", ["1000"])[0])
    shown, more = uploads[:size], len(uploads) > size
    head = '<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    if more:
        head += (f"<IsTruncated>true</IsTruncated><NextKeyMarker>{field(shown[-1], 'Key')}</NextKeyMarker>"
                 f"<NextUploadIdMarker>{field(shown[-1], 'UploadId')}</NextUploadIdMarker>")
    else:
        head += "<IsTruncated>false</IsTruncated>"
    return (head + "".join(shown) + "</ListMultipartUploadsResult>").encode()

class Relay(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args): pass
    def relay(self):
        if self.path == "/__stats": return send_text(self, str(listings[0]))
        reply, body = forward(self, upstream, request_body(self))
        query = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
        if self.command == "GET" and "uploads" in query and reply.status == 200:
            with lock: listings[0] += 1
            body = page(body.decode(), query)
        send_on(self, reply, body)
    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = relay

serve(Relay)
"""#

    init(upstream: Int) throws {
        relay = try LoopbackScript("the paging proxy", script: RelayScript.helpers + Self.script, arguments: [String(upstream)])
    }

    /// ListMultipartUploads answered so far.
    func listings() throws -> Int {
        Int(try relay.get("/__stats")) ?? -1
    }
}

@Suite struct S3PendingUploadsPagingTests {
    /// Five unfinished uploads (two of them of the same key) listed two per page: every one
    /// is found, in three listings, and aborting them all leaves none.
    @Test func everyPageOfUnfinishedUploadsIsRead() throws {
        let moto = try MotoServer()
        let bucket = "drctl-paging"
        try moto.createBucket(bucket)
        let proxy = try PagingProxy(upstream: moto.port)
        var store = try S3ObjectStore(endpoint: "http://127.0.0.1:\(proxy.port)", region: MotoServer.region, bucket: bucket,
                                      prefix: "repo", pathStyle: true, credentials: MotoServer.anyCredentials)
        store.listPageSize = 2
        let keys = ["data/a", "data/b", "data/b", "data/c", "data/d"]
        for key in keys {
            _ = try store.expectSuccess(
                store.send(HTTPClient(settings: store.settings), method: "POST", objectKey: store.objectKey(key),
                           query: [("uploads", nil)], operation: "start the upload of", key: key),
                operation: "start the upload of", key: key)
        }
        let pending = try store.pendingUploads()
        #expect(pending.map(\.key).sorted() == keys)
        #expect(Set(pending.map(\.uploadID)).count == keys.count)
        #expect(try proxy.listings() == 3)
        for upload in pending { try store.abortUpload(upload) }
        #expect(try store.pendingUploads().isEmpty)
    }
}
