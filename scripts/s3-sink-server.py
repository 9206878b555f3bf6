#!/usr/bin/env python3
"""A discarding S3 endpoint for memory benchmarks (scripts/bench-s3.sh, SINK_GIB).

moto keeps every object in memory, so it cannot take the issue's 8 GiB stream into three
regions on this machine. drctl's memory does not depend on what the server keeps, so this
server keeps small objects (manifests, locks, records: up to 1 MiB) and only the size of larger
ones and of every multipart part. It speaks the path-style subset drctl's backup uses:

  PUT /b (create bucket)      PUT /b/k [If-None-Match: *]   GET|HEAD|DELETE /b/k
  GET /b?list-type=2          POST /b/k?uploads             PUT /b/k?partNumber=N&uploadId=U
  POST /b/k?uploadId=U        DELETE /b/k?uploadId=U        GET /b?uploads    POST /b?delete

No signature is checked: this is a benchmark sink, never a test of drctl's S3 client (the tests
run against moto, which checks signatures).

  python3 scripts/s3-sink-server.py PORT     # prints "ready" once it listens on 127.0.0.1:PORT
"""
import http.server
import re
import sys
import threading
import uuid
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

KEEP = 1 << 20
lock = threading.Lock()
buckets = {}   # bucket -> {key: (size, bytes or None)}
uploads = {}   # upload id -> (bucket, key, {part: size})


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def target(self):
        url = urlsplit(self.path)
        parts = url.path.lstrip("/").split("/", 1)
        bucket = unquote(parts[0])
        key = unquote(parts[1]) if len(parts) > 1 else ""
        return bucket, key, parse_qs(url.query, keep_blank_values=True)

    def body(self, keep):
        """Reads the request body; returns (size, bytes if size <= keep else None)."""
        length = int(self.headers.get("Content-Length") or 0)
        kept = bytearray() if length <= keep else None
        remaining = length
        while remaining > 0:
            piece = self.rfile.read(min(remaining, 1 << 20))
            if not piece:
                break
            remaining -= len(piece)
            if kept is not None:
                kept += piece
        return length - remaining, (bytes(kept) if kept is not None else None)

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def xml(self, status, text):
        self.answer(status, ('<?xml version="1.0" encoding="UTF-8"?>' + text).encode(),
                    [("Content-Type", "application/xml")])

    def error(self, status, code):
        self.xml(status, f"<Error><Code>{code}</Code><Message>{code}</Message></Error>")

    def do_PUT(self):
        bucket, key, query = self.target()
        if not key:
            self.body(0)
            with lock:
                buckets.setdefault(bucket, {})
            return self.answer(200)
        if "uploadId" in query:
            size, _ = self.body(0)
            with lock:
                upload = uploads.get(query["uploadId"][0])
                if upload is None:
                    return self.error(404, "NoSuchUpload")
                upload[2][int(query["partNumber"][0])] = size
            return self.answer(200, headers=[("ETag", f'"{uuid.uuid4().hex}"')])
        size, data = self.body(KEEP)
        with lock:
            objects = buckets.get(bucket)
            if objects is None:
                return self.error(404, "NoSuchBucket")
            if self.headers.get("If-None-Match") == "*" and key in objects:
                return self.error(412, "PreconditionFailed")
            objects[key] = (size, data)
        self.answer(200, headers=[("ETag", f'"{uuid.uuid4().hex}"')])

    def do_POST(self):
        bucket, key, query = self.target()
        size, data = self.body(KEEP)
        if "delete" in query:
            keys = [k.decode() for k in re.findall(rb"<Key>(.*?)</Key>", data or b"")]
            with lock:
                for name in keys:
                    buckets.get(bucket, {}).pop(name, None)
            deleted = "".join(f"<Deleted><Key>{k}</Key></Deleted>" for k in keys)
            return self.xml(200, f"<DeleteResult>{deleted}</DeleteResult>")
        if "uploads" in query:
            upload_id = uuid.uuid4().hex
            with lock:
                if bucket not in buckets:
                    return self.error(404, "NoSuchBucket")
                uploads[upload_id] = (bucket, key, {})
            return self.xml(200, f"<InitiateMultipartUploadResult><Bucket>{escape(bucket)}</Bucket>"
                                 f"<Key>{escape(key)}</Key><UploadId>{upload_id}</UploadId>"
                                 "</InitiateMultipartUploadResult>")
        if "uploadId" in query:
            with lock:
                upload = uploads.pop(query["uploadId"][0], None)
                if upload is None:
                    return self.error(404, "NoSuchUpload")
                objects = buckets[upload[0]]
                if self.headers.get("If-None-Match") == "*" and key in objects:
                    return self.error(412, "PreconditionFailed")
                objects[key] = (sum(upload[2].values()), None)
            return self.xml(200, f"<CompleteMultipartUploadResult><Key>{escape(key)}</Key>"
                                 f"<ETag>\"{uuid.uuid4().hex}-{len(upload[2])}\"</ETag></CompleteMultipartUploadResult>")
        self.error(400, "InvalidRequest")

    def do_GET(self):
        bucket, key, query = self.target()
        with lock:
            objects = buckets.get(bucket)
            if objects is None:
                return self.error(404, "NoSuchBucket")
            if not key and "uploads" in query:
                prefix = query.get("prefix", [""])[0]
                rows = "".join(f"<Upload><Key>{escape(k)}</Key><UploadId>{u}</UploadId>"
                               "<Initiated>2026-01-01T00:00:00.000Z</Initiated></Upload>"
                               for u, (b, k, _) in uploads.items() if b == bucket and k.startswith(prefix))
                return self.xml(200, f"<ListMultipartUploadsResult><IsTruncated>false</IsTruncated>{rows}"
                                     "</ListMultipartUploadsResult>")
            if not key:
                prefix = query.get("prefix", [""])[0]
                rows = "".join(f"<Contents><Key>{escape(k)}</Key><Size>{size}</Size>"
                               "<LastModified>2026-01-01T00:00:00.000Z</LastModified></Contents>"
                               for k, (size, _) in sorted(objects.items()) if k.startswith(prefix))
                return self.xml(200, f"<ListBucketResult><IsTruncated>false</IsTruncated>{rows}</ListBucketResult>")
            found = objects.get(key)
        if found is None:
            return self.error(404, "NoSuchKey")
        size, data = found
        if data is None:
            return self.error(501, "NotImplemented")   # a discarded object: this server cannot serve it
        match = re.match(r"bytes=(\d+)-(\d*)", self.headers.get("Range") or "")
        if match:
            start = int(match.group(1))
            end = int(match.group(2)) if match.group(2) else size - 1
            piece = data[start:end + 1]
            return self.answer(206, piece, [("Content-Range", f"bytes {start}-{start + len(piece) - 1}/{size}")])
        self.answer(200, data)

    def do_HEAD(self):
        bucket, key, _ = self.target()
        with lock:
            found = buckets.get(bucket, {}).get(key)
        if found is None:
            return self.answer(404)
        self.send_response(200)
        self.send_header("Content-Length", str(found[0]))
        self.send_header("ETag", '"0"')
        self.end_headers()

    def do_DELETE(self):
        bucket, key, query = self.target()
        with lock:
            if "uploadId" in query:
                uploads.pop(query["uploadId"][0], None)
            else:
                buckets.get(bucket, {}).pop(key, None)
        self.answer(204)


server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
server.daemon_threads = True
print("ready", flush=True)
server.serve_forever()
