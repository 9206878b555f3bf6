import DrctlCrypto
import DrctlPipeline
import Foundation
import Synchronization

/// A repository in an S3 bucket (AWS or a compatible server: MinIO, Ceph, R2, moto, …), under a
/// key prefix. Requests are signed with `SignatureV4` and sent with libcurl (`HTTPClient`).
///
/// Sendable and stateless: every operation, reader and writer has its own `HTTPClient` (libcurl
/// handles are not thread-safe).
///
/// Write-once: a writer's final request (PutObject, or CompleteMultipartUpload) carries
/// `If-None-Match: *`, so S3 refuses it with 412 when the key exists and the first object stays.
/// AWS S3 (since 2024) and moto honour it. A server that ignores the header would silently replace
/// the object; no HEAD-before-commit is done, because it would only narrow, not close, that race.
///
/// Retries: every request is replayable (bodies are in memory) and is retried on 5xx/429, S3's
/// SlowDown/InternalError/RequestTimeout and broken transfers (reset, stall, empty reply), with
/// exponential backoff and full jitter, within `retryPolicy` (12 attempts, 60 s per request). A
/// write-once commit retried after a broken transfer may meet its own first attempt (412, or
/// NoSuchUpload for a multipart upload): the object is then taken as ours when its size is the
/// one written (no MD5 at hand to compare the ETag; the residual risk is a concurrent writer of
/// the same key with the same size). A CreateMultipartUpload whose answer was lost after the
/// server acted on it leaves an upload behind, for prune (`pendingUploads`, `abortUpload`).
/// Reads go through the same loop: a reader's ranged GET whose body was cut short is fetched again
/// like any broken transfer, so a restore survives what a backup survives.
public struct S3ObjectStore: ObjectStore {
    public let endpoint: String
    public let region: String
    public let bucket: String
    /// Without leading or trailing `/`; empty for the bucket's root.
    public let prefix: String
    /// `http://host/bucket/key` (true) or `http://bucket.host/key` (false).
    public let pathStyle: Bool
    /// What each request is signed with (refreshed before temporary credentials expire).
    public let credentials: S3CredentialSource
    public private(set) var settings: HTTPSettings
    /// The first parts' size; it doubles every 1000 parts so 10,000 parts hold more than 5 TB.
    /// S3 refuses parts under 5 MiB (except the last one).
    public let partSize: Int
    /// Bytes of parts one writer buffers at most (the part being filled and those in flight),
    /// while parts are no larger than this: `uploadMemory / partSize` parts at once (at least one).
    public var uploadMemory: Int = 15 << 20
    /// Bytes fetched per ranged GET when reading.
    public var readWindow: Int = 8 << 20
    /// Whether bodies carry their SHA-256 as an S3 additional checksum (`S3BodyDigest`); off for
    /// endpoints that refuse the headers.
    public var additionalChecksums = true
    /// `max-keys` of each LIST page; nil: the server's default (1000). For tests.
    var listPageSize: Int?
    /// Retries of requests that failed transiently (5xx, 429, SlowDown, reset, stall, …).
    public var retryPolicy = S3RetryPolicy()
    /// The total time one request may take over all its attempts, in seconds.
    public var retryDeadline: Double {
        get { retryPolicy.deadline }
        set { retryPolicy.deadline = newValue }
    }
    /// Bounds each request, retries included (`bounded(by:)`); nil: only `retryPolicy` does.
    public private(set) var deadline: RequestDeadline?
    /// Retries done so far by this store (shared with its copies, readers and writers).
    public let retryCounter = S3RetryCounter()
    public var retries: Int { retryCounter.value }

    let secure: Bool
    let host: String
    let port: Int?

    public init(endpoint: String, region: String, bucket: String, prefix: String, pathStyle: Bool,
                credentials: S3Credentials, settings: HTTPSettings = HTTPSettings(), partSize: Int = 5 << 20) throws {
        try self.init(endpoint: endpoint, region: region, bucket: bucket, prefix: prefix, pathStyle: pathStyle,
                      credentials: S3CredentialSource(fixed: credentials), settings: settings, partSize: partSize)
    }

    public init(endpoint: String, region: String, bucket: String, prefix: String, pathStyle: Bool,
                credentials: S3CredentialSource, settings: HTTPSettings = HTTPSettings(), partSize: Int = 5 << 20) throws {
        var rest = Substring(endpoint)
        if rest.hasPrefix("https://") {
            secure = true
            rest = rest.dropFirst(8)
        } else if rest.hasPrefix("http://") {
            secure = false
            rest = rest.dropFirst(7)
        } else {
            throw S3ConfigurationError("endpoint '\(endpoint)' must start with http:// or https://")
        }
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.isEmpty, !rest.contains("/"), !rest.contains("?"), !rest.contains("@") else {
            throw S3ConfigurationError("endpoint '\(endpoint)' must be http[s]://host[:port] without a path")
        }
        // host, host:port, [v6], [v6]:port
        var hostPart = rest
        var portPart: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw S3ConfigurationError("endpoint '\(endpoint)': unterminated IPv6 address")
            }
            hostPart = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portPart = after.dropFirst() }
            else if !after.isEmpty { throw S3ConfigurationError("endpoint '\(endpoint)': bad port") }
        } else if let colon = rest.lastIndex(of: ":") {
            hostPart = rest[..<colon]
            portPart = rest[rest.index(after: colon)...]
        }
        if let portPart {
            guard let value = Int(portPart), (1...65535).contains(value) else {
                throw S3ConfigurationError("endpoint '\(endpoint)': bad port '\(portPart)'")
            }
            port = value
        } else {
            port = nil
        }
        host = String(hostPart)
        guard !bucket.isEmpty, !bucket.contains("/") else {
            throw S3ConfigurationError("bucket name '\(bucket)' is empty or contains '/'")
        }
        guard partSize > 0 else { throw S3ConfigurationError("part size must be positive") }
        self.endpoint = (secure ? "https://" : "http://") + String(rest)
        self.region = region
        self.bucket = bucket
        self.prefix = prefix.split(separator: "/").joined(separator: "/")
        self.pathStyle = pathStyle
        self.credentials = credentials
        self.settings = settings
        self.partSize = partSize
    }

    public var location: String {
        "s3://\(bucket)/\(prefix) (\(endpoint))"
    }

    // MARK: ObjectStore

    public func create(_ key: String) throws -> ObjectWriter {
        try validate(key)
        return S3ObjectWriter(store: self, key: key)
    }

    public func open(_ key: String) throws -> ObjectReader {
        try validate(key)
        let cancellation = HTTPCancellation()
        let client = HTTPClient(settings: settings, cancellation: cancellation)
        guard let info = try head(key, client: client, operation: "open") else {
            throw StorageError.notFound(key: key, location: location)
        }
        return S3ObjectReader(store: self, key: key, size: info.size, client: client, cancellation: cancellation)
    }

    /// No HEAD: the listing gave the size, and the reader's ranged GETs check it (`Content-Range`).
    public func open(listed object: ObjectInfo) throws -> ObjectReader {
        try validate(object.key)
        let cancellation = HTTPCancellation()
        let client = HTTPClient(settings: settings, cancellation: cancellation)
        return S3ObjectReader(store: self, key: object.key, size: object.size, client: client, cancellation: cancellation)
    }

    public func list(prefix listPrefix: String) throws -> [ObjectInfo] {
        let client = HTTPClient(settings: settings)
        let base = prefix.isEmpty ? "" : prefix + "/"
        var found: [ObjectInfo] = []
        var token: String?
        repeat {
            var query: [(name: String, value: String?)] = [("list-type", "2"), ("prefix", base + listPrefix)]
            if let token { query.append(("continuation-token", token)) }
            if let listPageSize { query.append(("max-keys", String(listPageSize))) }
            let root = try listing(client, query: query, answer: "ListBucketResult", operation: "list", key: listPrefix)
            for item in root.all("Contents") {
                guard let full = item.value("Key"), full.hasPrefix(base),
                      let size = item.value("Size").flatMap({ UInt64($0) }) else { continue }
                found.append(ObjectInfo(key: String(full.dropFirst(base.count)), size: size, etag: item.value("ETag")))
            }
            token = root.value("IsTruncated") == "true" ? root.value("NextContinuationToken") : nil
            if root.value("IsTruncated") == "true" && token == nil {
                throw StorageError.io(operation: "list", key: listPrefix, location: location,
                                      reason: "truncated listing without a continuation token")
            }
        } while token != nil
        return found.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    }

    /// A copy whose requests each end within about `deadline.seconds`: no attempt waits longer
    /// than that for a byte (connect or transfer: libcurl's stall check, once a second) and no
    /// retry starts after it. A transfer that keeps moving is not cut (a slow restore is not a
    /// hung one). A store bounded already keeps its deadline (and its latch).
    public func bounded(by deadline: RequestDeadline) -> ObjectStore {
        guard self.deadline == nil else { return self }
        var copy = self
        let seconds = max(1, Int(deadline.seconds.rounded(.up)))
        copy.deadline = deadline
        copy.retryPolicy.deadline = min(retryPolicy.deadline, deadline.seconds)
        copy.settings.connectTimeout = min(settings.connectTimeout, seconds)
        copy.settings.stallTimeout = min(settings.stallTimeout, seconds)
        return copy
    }

    public func stat(_ key: String) throws -> ObjectInfo? {
        try validate(key)
        return try head(key, client: HTTPClient(settings: settings), operation: "stat")
    }

    public func delete(_ key: String) throws {
        try validate(key)
        let client = HTTPClient(settings: settings)
        let (response, body) = try send(client, method: "DELETE", objectKey: objectKey(key), operation: "delete", key: key)
        if response.status == 404 {
            // A missing key is fine; a missing bucket is not.
            if S3ErrorResponse(status: 404, body: body).code == "NoSuchBucket" {
                throw failure("delete", key, S3ErrorResponse(status: 404, body: body))
            }
            return
        }
        _ = try expectSuccess((response, body), operation: "delete", key: key)
    }

    // MARK: Multipart uploads left behind (for prune and tests)

    public struct PendingUpload: Sendable, Equatable {
        /// Relative to the store's prefix.
        public var key: String
        public var uploadID: String
        /// As S3 reports it (ISO 8601).
        public var initiated: String
    }

    /// Multipart uploads started and neither completed nor aborted, under `prefix`: every page
    /// (S3 answers up to 1000 per page and continues from `NextKeyMarker`/`NextUploadIdMarker`).
    public func pendingUploads(prefix listPrefix: String = "") throws -> [PendingUpload] {
        let client = HTTPClient(settings: settings)
        let base = prefix.isEmpty ? "" : prefix + "/"
        var found: [PendingUpload] = []
        var marker: (key: String, uploadID: String)?
        repeat {
            var query: [(name: String, value: String?)] = [("uploads", nil), ("prefix", base + listPrefix)]
            if let marker { query += [("key-marker", marker.key), ("upload-id-marker", marker.uploadID)] }
            if let listPageSize { query.append(("max-uploads", String(listPageSize))) }
            let root = try listing(client, query: query, answer: "ListMultipartUploadsResult",
                                   operation: "list multipart uploads of", key: listPrefix)
            found += root.all("Upload").compactMap { upload in
                guard let key = upload.value("Key"), key.hasPrefix(base), let id = upload.value("UploadId") else { return nil }
                return PendingUpload(key: String(key.dropFirst(base.count)), uploadID: id,
                                     initiated: upload.value("Initiated") ?? "")
            }
            let previous = marker
            marker = nil
            if root.value("IsTruncated") == "true" {
                guard let key = root.value("NextKeyMarker"), !key.isEmpty else {
                    throw StorageError.io(operation: "list multipart uploads of", key: listPrefix, location: location,
                                          reason: "truncated listing without a NextKeyMarker")
                }
                let next = (key: key, uploadID: root.value("NextUploadIdMarker") ?? "")
                // Markers that do not move would ask for the same page for ever.
                if let previous, previous == next {
                    throw StorageError.io(operation: "list multipart uploads of", key: listPrefix, location: location,
                                          reason: "truncated listing whose markers do not advance")
                }
                marker = next
            }
        } while marker != nil
        return found
    }

    /// One page of a bucket listing: a GET of the bucket whose XML answer must be `answer`.
    private func listing(_ client: HTTPClient, query: [(name: String, value: String?)], answer: String,
                         operation: String, key: String) throws -> S3XMLElement {
        let (_, body) = try expectSuccess(send(client, method: "GET", objectKey: nil, query: query, operation: operation, key: key),
                                          operation: operation, key: key)
        guard let root = S3XMLElement.parse(body), root.name == answer else {
            throw StorageError.io(operation: operation, key: key, location: location,
                                  reason: "the endpoint's answer is not a \(answer)")
        }
        return root
    }

    /// Aborts one multipart upload (from `pendingUploads`).
    public func abortUpload(_ upload: PendingUpload) throws {
        let client = HTTPClient(settings: settings)
        let (response, body) = try send(client, method: "DELETE", objectKey: objectKey(upload.key),
                                        query: [("uploadId", upload.uploadID)], operation: "abort the upload of",
                                        key: upload.key)
        if response.status == 404 { return }   // NoSuchUpload: already gone
        _ = try expectSuccess((response, body), operation: "abort the upload of", key: upload.key)
    }

    // MARK: Requests

    /// The key in the bucket.
    func objectKey(_ key: String) -> String {
        prefix.isEmpty ? key : prefix + "/" + key
    }

    /// Keys are `/`-separated, non-empty segments not starting with a dot (as for every store).
    func validate(_ key: String) throws {
        let segments = key.split(separator: "/", omittingEmptySubsequences: false)
        guard !key.isEmpty, segments.allSatisfy({ !$0.isEmpty && !$0.hasPrefix(".") }) else {
            throw StorageError.invalidKey(key)
        }
    }

    /// Builds, signs and sends one request; the body is collected (up to `limit` bytes).
    /// `objectKey` nil addresses the bucket itself. Transient failures are retried (see
    /// `sendRetrying`).
    func send(_ client: HTTPClient, method: String, objectKey: String?,
              query: [(name: String, value: String?)] = [], headers: [(String, String)] = [],
              body: [UInt8] = [], payloadSHA256: String? = nil, limit: Int = 16 << 20,
              operation: String, key: String) throws -> (HTTPResponse, [UInt8]) {
        let answer = try sendRetrying(client, method: method, objectKey: objectKey, query: query, headers: headers,
                                      body: body, payloadSHA256: payloadSHA256, limit: limit,
                                      operation: operation, key: key)
        return (answer.response, answer.body)
    }

    /// As `send`, retrying (the body is in memory, so every request can be replayed) on 500, 502,
    /// 503, 504, 429, S3's SlowDown/InternalError/RequestTimeout, and on transfers broken after the
    /// connection was made (reset, stall, empty reply, partial transfer), with backoff and full
    /// jitter, within `retryPolicy`. A refused connection, a DNS failure and every other answer
    /// (403, 404, 400, 412, …) are returned or thrown at once. Each attempt is signed anew.
    ///
    /// `uncertain` is true when an earlier attempt broke in transit: the server may have carried it
    /// out (a 412 or NoSuchUpload that follows may be caused by our own first attempt).
    ///
    /// `incomplete` says why a 2xx answer is not whole (a ranged GET's body shorter than the range,
    /// from a server that closed early without a Content-Length), or nil: such an answer is
    /// retried as a broken transfer. `reserve` is the body's expected size, allocated once.
    func sendRetrying(_ client: HTTPClient, method: String, objectKey: String?,
                      query: [(name: String, value: String?)] = [], headers: [(String, String)] = [],
                      body: [UInt8] = [], payloadSHA256: String? = nil, limit: Int = 16 << 20, reserve: Int = 0,
                      operation: String, key: String,
                      incomplete: (HTTPResponse, [UInt8]) -> String? = { _, _ in nil })
        throws -> (response: HTTPResponse, body: [UInt8], uncertain: Bool) {
        if let deadline, deadline.hasPassed {
            throw StorageError.io(operation: operation, key: key, location: location, reason: deadline.reason(after: nil))
        }
        let started = Date()
        var attempt = 0
        var uncertain = false
        while true {
            attempt += 1
            var failure: StorageError
            do {
                let (response, answer) = try sendOnce(client, method: method, objectKey: objectKey, query: query,
                                                      headers: headers, body: body, payloadSHA256: payloadSHA256,
                                                      limit: limit, reserve: reserve, operation: operation, key: key)
                let error = S3ErrorResponse(status: response.status, body: answer)
                // CompleteMultipartUpload can fail with a 200 answer holding an Error document
                // (InternalError: retried like a 500).
                if (200..<300).contains(response.status) && !(method == "POST" && error.code != nil) {
                    guard let reason = incomplete(response, answer) else { return (response, answer, uncertain) }
                    failure = .io(operation: operation, key: key, location: location, reason: reason)
                } else {
                    guard S3RetryPolicy.isRetryable(status: response.status, code: error.code) else {
                        return (response, answer, uncertain)
                    }
                    failure = self.failure(operation, key, error)
                }
                if attempt >= retryPolicy.maxAttempts || !canWait(started, client) {
                    throw exhausted(failure, attempt, started)
                }
            } catch let error as HTTPError {
                guard case .transport(_, let code, _) = error, S3RetryPolicy.isTransient(curlCode: code) else {
                    throw transportFailure(operation, key, error)
                }
                uncertain = true
                failure = transportFailure(operation, key, error)
                if attempt >= retryPolicy.maxAttempts || !canWait(started, client) {
                    throw exhausted(failure, attempt, started)
                }
            }
            retryCounter.increment()
            let pause = min(retryPolicy.backoff(after: attempt),
                            max(0, retryPolicy.deadline - Date().timeIntervalSince(started)))
            if pause > 0 { usleep(UInt32(pause * 1_000_000)) }
        }
    }

    /// Whether another attempt may start: the deadline is not reached and the client's transfers
    /// are not cancelled.
    private func canWait(_ started: Date, _ client: HTTPClient) -> Bool {
        Date().timeIntervalSince(started) < retryPolicy.deadline && client.cancellation?.isCancelled != true
    }

    /// The last failure, saying how many attempts were made.
    /// Past the store's `deadline`, the failure says so (and a latching deadline is marked).
    private func exhausted(_ failure: StorageError, _ attempts: Int, _ started: Date) -> StorageError {
        let elapsed = Date().timeIntervalSince(started)
        let seconds = String(format: "%.1f", elapsed)
        if case .io(let operation, let key, let location, let reason) = failure {
            let given = "\(reason) (gave up after \(attempts) attempts in \(seconds) s)"
            if let deadline, elapsed >= deadline.seconds {
                deadline.markPassed()
                return .io(operation: operation, key: key, location: location, reason: deadline.reason(after: given))
            }
            return .io(operation: operation, key: key, location: location, reason: given)
        }
        return failure
    }

    /// One attempt of `send`, without retries; transport errors are thrown as `HTTPError`.
    private func sendOnce(_ client: HTTPClient, method: String, objectKey: String?,
                          query: [(name: String, value: String?)], headers: [(String, String)],
                          body: [UInt8], payloadSHA256: String?, limit: Int, reserve: Int,
                          operation: String, key: String) throws -> (HTTPResponse, [UInt8]) {
        var collected: [UInt8] = []
        collected.reserveCapacity(reserve)
        let response = try send(client, method: method, objectKey: objectKey, query: query, headers: headers,
                                body: body, payloadSHA256: payloadSHA256, operation: operation, key: key,
                                wrapTransportErrors: false) { piece in
            guard collected.count + piece.count <= limit else {
                throw StorageError.io(operation: operation, key: key, location: location,
                                      reason: "answer larger than \(limit) bytes")
            }
            collected.append(contentsOf: piece)
        }
        return (response, collected)
    }

    /// As above, streaming the response body to `onBody`.
    func send(_ client: HTTPClient, method: String, objectKey: String?,
              query: [(name: String, value: String?)] = [], headers: [(String, String)] = [],
              body: [UInt8] = [], payloadSHA256: String? = nil, operation: String, key: String,
              wrapTransportErrors: Bool = true, onBody: (UnsafeRawBufferPointer) throws -> Void) throws -> HTTPResponse {
        let hostHeader: String
        var path: String
        if pathStyle {
            hostHeader = SignatureV4.hostHeader(host: host, port: port, secure: secure)
            path = "/" + bucket
            if let objectKey { path += "/" + objectKey }
        } else {
            hostHeader = SignatureV4.hostHeader(host: bucket + "." + host, port: port, secure: secure)
            path = "/" + (objectKey ?? "")
        }
        let payload = payloadSHA256 ?? (body.isEmpty ? SignatureV4.emptyPayloadSHA256 : hex(sha256(body)))
        let current: S3Credentials
        do {
            current = try credentials.current()
        } catch {
            throw StorageError.io(operation: operation, key: key, location: location,
                                  reason: "cannot renew the S3 credentials (region \(region)): \(error)")
        }
        let signer = SignatureV4(credentials: current, region: region)
        let signed = signer.sign(method: method, host: hostHeader, path: path, query: query,
                                 headers: headers.map { (name: $0.0, value: $0.1) },
                                 payloadSHA256: payload, date: Date())
        let url = (secure ? "https://" : "http://") + hostHeader
            + SignatureV4.encodedPathAndQuery(path: path, query: query)
        let request = HTTPRequest(method: method, url: url,
                                  headers: headers + signed.map { ($0.name, $0.value) },
                                  body: HTTPRequestBody(bytes: body))
        do {
            return try client.perform(request, onBody: onBody)
        } catch let error as HTTPError where wrapTransportErrors {
            throw transportFailure(operation, key, error)
        }
    }

    func transportFailure(_ operation: String, _ key: String, _ error: HTTPError) -> StorageError {
        var code: Int?
        if case .transport(_, let transportCode, _) = error { code = transportCode }
        let what: String
        var advice = ""
        switch code {
        case nil, 1, 3, 5, 6, 7:  // not a transfer; CURLE_UNSUPPORTED_PROTOCOL, _URL_MALFORMAT, _COULDNT_RESOLVE_PROXY/_HOST, _COULDNT_CONNECT
            what = "cannot reach the S3 endpoint"
        case 60, 83, 90, 91:      // CURLE_PEER_FAILED_VERIFICATION, _SSL_ISSUER_ERROR, _SSL_PINNEDPUBKEYNOTMATCH, _SSL_INVALIDCERTSTATUS
            what = "TLS certificate not accepted from the S3 endpoint"
            advice = settings.caFile.map { " (checked against the region's ca_file \($0))" }
                ?? "; if a private authority signed it, name that authority's PEM file in the region's ca_file"
        case 77:                  // CURLE_SSL_CACERT_BADFILE
            what = "cannot load the CA certificates (the region's ca_file \(settings.caFile ?? "unset")) for the S3 endpoint"
        case 35:                  // CURLE_SSL_CONNECT_ERROR
            what = "no TLS connection to the S3 endpoint"
            advice = "; an endpoint without TLS takes an http:// URL"
        default:
            what = "transfer failed with the S3 endpoint"
        }
        return .io(operation: operation, key: key, location: location,
                   reason: "\(what) \(endpoint) (region \(region)): \(error)\(advice)")
    }

    /// Passes a 2xx answer through; anything else becomes the matching `StorageError`.
    func expectSuccess(_ answer: (HTTPResponse, [UInt8]), operation: String, key: String) throws -> (HTTPResponse, [UInt8]) {
        let (response, body) = answer
        guard (200..<300).contains(response.status) else {
            throw failure(operation, key, S3ErrorResponse(status: response.status, body: body))
        }
        return answer
    }

    func failure(_ operation: String, _ key: String, _ error: S3ErrorResponse) -> StorageError {
        if error.code == "NoSuchKey" { return .notFound(key: key, location: location) }
        return .io(operation: operation, key: key, location: location,
                   reason: error.explanation(region: region, bucket: bucket))
    }

    /// HEAD: the size, nil on 404. A HEAD answer has no body, so on another failure a one-byte GET
    /// fetches S3's error document for a precise message.
    func head(_ key: String, client: HTTPClient, operation: String) throws -> ObjectInfo? {
        let (response, _) = try send(client, method: "HEAD", objectKey: objectKey(key), operation: operation, key: key)
        switch response.status {
        case 200..<300:
            guard let size = response.header("Content-Length").flatMap({ UInt64($0) }) else {
                throw StorageError.io(operation: operation, key: key, location: location,
                                      reason: "HEAD answer without a Content-Length")
            }
            return ObjectInfo(key: key, size: size)
        case 404:
            // Tell a missing bucket from a missing key.
            let (_, body) = try send(client, method: "GET", objectKey: objectKey(key), headers: [("Range", "bytes=0-0")],
                                     limit: 1 << 16, operation: operation, key: key)
            let error = S3ErrorResponse(status: 404, body: body)
            if error.code == "NoSuchBucket" { throw failure(operation, key, error) }
            return nil
        default:
            let (again, body) = try send(client, method: "GET", objectKey: objectKey(key), headers: [("Range", "bytes=0-0")],
                                         limit: 1 << 16, operation: operation, key: key)
            let error = S3ErrorResponse(status: response.status, body: body)
            throw failure(operation, key, error.code != nil && again.status == response.status
                ? error : S3ErrorResponse(status: response.status, code: nil, message: nil))
        }
    }
}

public struct S3ConfigurationError: Error, CustomStringConvertible, Equatable {
    public var description: String
    init(_ description: String) { self.description = description }
}

// MARK: - Writer

/// Buffers parts in memory; an object smaller than the first part goes up in one PutObject, a
/// bigger one as a multipart upload, each part signed with its SHA-256 and sent on a thread of its
/// own while the next one fills: `partsInFlight` buffers at once (`S3PartUploads`).
///
/// Every body also carries that SHA-256 as an additional checksum unless `additionalChecksums` is
/// off (`S3BodyDigest`; the multipart upload is created with `x-amz-checksum-algorithm: SHA256` and
/// completed with each part's). It
/// costs nothing more here, and spares the server its default full-object checksum (moto 5
/// copies and hashes the whole object in CompleteMultipartUpload: scripts/bench-s3.sh).
final class S3ObjectWriter: StallAwareWriter {
    private let store: S3ObjectStore
    private let key: String
    private let client: HTTPClient
    /// Shared by this writer's requests: `cancel()` cuts them short (never the abort's).
    private let cancellation = HTTPCancellation()
    private let progress = ProgressHandler()
    private var buffer: [UInt8] = []
    private var uploadID: String?
    /// A CreateMultipartUpload was sent: even without its answer, an upload may exist.
    private var uploadRequested = false
    /// Parts handed to `uploads` so far.
    private var partsStarted = 0
    private let uploads = S3PartUploads()
    private let spareBuffers = S3PartBuffers()
    /// Bytes sent in parts so far.
    private var written: UInt64 = 0
    private var finished = false

    init(store: S3ObjectStore, key: String) {
        self.store = store
        self.key = key
        self.client = HTTPClient(settings: store.settings, cancellation: cancellation)
    }

    func observeProgress(_ handler: @escaping @Sendable () -> Void) { progress.set(handler) }

    func cancel() { cancellation.cancel() }

    /// Part `number` (1-based) is `partSize << ((number - 1) / 1000)`, capped at S3's 5 GiB:
    /// 8 MiB parts hold about 8.6 TB in 10,000 parts; 5 MiB ones about 5.4 TB.
    static func partSize(_ number: Int, base: Int) -> Int {
        let shift = min((number - 1) / 1000, 20)
        return min(base << shift, 5 << 30)
    }

    /// Buffers of part `number`'s size that fit in `memory` (the one being filled included), at least one.
    /// With the defaults (5 MiB parts, 15 MiB): 3 for parts 1–1000, then 1; a writer holds at most
    /// 15 MiB of parts for objects up to 14.6 GiB (2000 parts), one part beyond.
    static func partsInFlight(_ number: Int, base: Int, memory: Int) -> Int {
        max(1, memory / partSize(number, base: base))
    }

    private var currentPartSize: Int { Self.partSize(partsStarted + 1, base: store.partSize) }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !finished else {
            throw StorageError.io(operation: "write", key: key, location: store.location, reason: "writer already finished")
        }
        var offset = 0
        while offset < bytes.count {
            let room = currentPartSize - buffer.count
            let count = min(room, bytes.count - offset)
            // One allocation of the whole part (the pages are only touched as they fill).
            if buffer.capacity < buffer.count + count { buffer.reserveCapacity(currentPartSize) }
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)]))
            offset += count
            if buffer.count == currentPartSize {
                try uploadPart()
            }
        }
    }

    func commit() throws {
        guard !finished else {
            throw StorageError.io(operation: "commit", key: key, location: store.location, reason: "writer already finished")
        }
        finished = true
        let objectKey = store.objectKey(key)
        if uploadID == nil {
            let digest = S3BodyDigest(buffer)
            let answer = try store.sendRetrying(client, method: "PUT", objectKey: objectKey,
                                                headers: [("If-None-Match", "*")] + store.checksumHeaders(digest),
                                                body: buffer, payloadSHA256: digest.hex, operation: "write", key: key)
            let size = UInt64(buffer.count)
            buffer = []
            if answer.response.status == 412 {
                // An earlier attempt broke in transit and may have written the object: then the 412
                // is our own. Without the MD5 (the ETag of a single PUT) only the size is compared:
                // a concurrent writer of the same key with an object of the same size would be
                // taken for us (keys are content-addressed or unique, so this is very unlikely).
                if answer.uncertain, try store.head(key, client: client, operation: "write")?.size == size { return }
                throw StorageError.alreadyExists(key: key, location: store.location)
            }
            _ = try store.expectSuccess((answer.response, answer.body), operation: "write", key: key)
            return
        }
        do {
            if !buffer.isEmpty || partsStarted == 0 { try uploadPart() }
            buffer = []
            let parts = try uploads.finish()
            var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            for part in parts {
                xml += part.element(withChecksum: store.additionalChecksums)
            }
            xml += "</CompleteMultipartUpload>"
            let full = try store.sendRetrying(client, method: "POST", objectKey: objectKey, query: [("uploadId", uploadID)],
                                              headers: [("If-None-Match", "*"), ("Content-Type", "application/xml")],
                                              body: Array(xml.utf8), operation: "complete the upload of", key: key)
            let answer = (full.response, full.body)
            if full.uncertain && (answer.0.status == 412
                || (answer.0.status == 404 && S3ErrorResponse(status: 404, body: answer.1).code == "NoSuchUpload")) {
                // An earlier attempt broke in transit and may have completed the upload: the object
                // with the size written is taken as ours (same residual risk as a single PUT).
                if try store.head(key, client: client, operation: "complete the upload of")?.size == written {
                    uploadID = nil
                    uploadRequested = false
                    return
                }
            }
            if answer.0.status == 412 { throw StorageError.alreadyExists(key: key, location: store.location) }
            _ = try store.expectSuccess(answer, operation: "complete the upload of", key: key)
            // A 200 answer may still carry an error (the server failed while completing).
            if S3ErrorResponse.isError(answer.1) {
                throw store.failure("complete the upload of", key, S3ErrorResponse(status: 200, body: answer.1))
            }
            uploadID = nil
            uploadRequested = false
        } catch {
            discardUpload()
            throw error
        }
    }

    func abort() {
        finished = true
        buffer = []
        discardUpload()
    }

    deinit { discardUpload() }

    /// Stops the parts in flight, then aborts the upload (a part that lands after the abort could
    /// otherwise keep the upload alive).
    private func discardUpload() {
        if !uploads.isEmpty || uploadID != nil {
            cancellation.cancel()
            uploads.waitForAll()
        }
        abortUpload()
    }

    /// Sends the buffer as the next part (starting the multipart upload first if needed).
    private func uploadPart() throws {
        let objectKey = store.objectKey(key)
        if uploadID == nil {
            uploadRequested = true
            let answer = try store.expectSuccess(
                store.send(client, method: "POST", objectKey: objectKey, query: [("uploads", nil)],
                           headers: store.uploadChecksumHeaders, operation: "start the upload of", key: key),
                operation: "start the upload of", key: key)
            guard let root = S3XMLElement.parse(answer.1), let id = root.value("UploadId"), !id.isEmpty else {
                throw StorageError.io(operation: "start the upload of", key: key, location: store.location,
                                      reason: "CreateMultipartUpload answer without an UploadId")
            }
            uploadID = id
        }
        let number = partsStarted + 1
        guard number <= 10_000 else {
            throw StorageError.io(operation: "write", key: key, location: store.location,
                                  reason: "object needs more than 10,000 parts")
        }
        let slots = Self.partsInFlight(number, base: store.partSize, memory: store.uploadMemory)
        let (store, key, uploadID, cancellation, progress, spares) =
            (self.store, self.key, uploadID, self.cancellation, self.progress, spareBuffers)
        // Handed over in a box the part's thread returns to the spares once its request has
        // ended, whatever keeps the thread's closure alive afterwards.
        let parcel = S3PartBytes(buffer)
        let parcelSize = buffer.count
        buffer = []
        // The buffer being filled next counts as one of the slots.
        try uploads.start(part: number, limit: max(1, slots - 1)) {
            defer { spares.put(parcel) }
            let client = HTTPClient(settings: store.settings, cancellation: cancellation)
            let digest = S3BodyDigest(parcel.current)
            let answer = try store.expectSuccess(
                store.send(client, method: "PUT", objectKey: objectKey,
                           query: [("partNumber", String(number)), ("uploadId", uploadID)], headers: store.checksumHeaders(digest),
                           body: parcel.current, payloadSHA256: digest.hex, operation: "upload part \(number) of", key: key),
                operation: "upload part \(number) of", key: key)
            guard let etag = answer.0.header("ETag"), !etag.isEmpty else {
                throw StorageError.io(operation: "upload part \(number) of", key: key, location: store.location,
                                      reason: "UploadPart answer without an ETag")
            }
            progress.call()
            return S3UploadedPart(number: number, etag: etag, checksumSHA256: digest.base64)
        }
        // When a part fills the memory alone, one at a time. And before parts grow, the smaller
        // ones end first: their buffers are freed before a bigger one is allocated instead of
        // alongside it (parts double at part 1001: three regions peaked at 117-119 MiB for a
        // 5.5 GiB stream without this wait, 102-107 MiB with it).
        let growing = Self.partSize(number + 1, base: store.partSize) > Self.partSize(number, base: store.partSize)
        if slots == 1 || growing { uploads.waitForAll() }
        partsStarted = number
        written += UInt64(parcelSize)
        buffer = spareBuffers.take(capacity: currentPartSize)
    }

    /// AbortMultipartUpload, best effort (prune removes what is left if this fails). When the
    /// answer to CreateMultipartUpload never came (failed, cancelled), the uploads of this key are
    /// looked up and aborted: backup keys are unique, so any upload of this key is ours.
    private func abortUpload() {
        guard let uploadID else {
            if uploadRequested {
                uploadRequested = false
                for upload in (try? store.pendingUploads(prefix: key)) ?? [] where upload.key == key {
                    try? store.abortUpload(upload)
                }
            }
            return
        }
        self.uploadID = nil
        uploadRequested = false
        // A client of its own: the writer's may be cancelled, the abort must still go out.
        _ = try? store.send(HTTPClient(settings: store.settings), method: "DELETE", objectKey: store.objectKey(key), query: [("uploadId", uploadID)],
                            operation: "abort the upload of", key: key)
    }
}

// MARK: - Reader

/// Sequential ranged GETs of `readWindow` bytes into one buffer: pull-based and bounded. Each
/// window is one request of the store's retry loop (`sendRetrying`, the writes' `retryPolicy`): a
/// window that fails in transit (reset, stall, a body cut short, 5xx, SlowDown) is fetched again
/// whole, with backoff; earlier windows are never re-read.
final class S3ObjectReader: ObjectReader {
    let size: UInt64
    private let store: S3ObjectStore
    private let key: String
    private let client: HTTPClient
    /// The client's: `cancel()` cuts the window in flight short and stops its retries.
    private let cancellation: HTTPCancellation
    private var buffer: [UInt8] = []
    private var position = 0          // in buffer
    private var nextOffset: UInt64 = 0 // of the object, first byte not yet fetched

    init(store: S3ObjectStore, key: String, size: UInt64, client: HTTPClient, cancellation: HTTPCancellation) {
        self.store = store
        self.key = key
        self.size = size
        self.client = client
        self.cancellation = cancellation
    }

    func read(into target: UnsafeMutableRawBufferPointer) throws -> Int {
        if position == buffer.count {
            guard nextOffset < size else { return 0 }
            try fetchWindow()
        }
        let count = min(target.count, buffer.count - position)
        buffer.withUnsafeBytes { source in
            target.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[position..<(position + count)]))
        }
        position += count
        return count
    }

    func finish() throws {}

    func cancel() { cancellation.cancel() }

    private func fetchWindow() throws {
        let first = nextOffset
        let last = min(first + UInt64(max(store.readWindow, 1)), size) - 1
        let expected = Int(last - first + 1)
        // The last window's memory goes before the next one's arrives.
        buffer = []
        position = 0
        let answer: (response: HTTPResponse, body: [UInt8], uncertain: Bool)
        do {
            if cancellation.isCancelled { throw HTTPError.cancelled(url: key) }
            // An error document is small; a body beyond the window means the range was ignored.
            answer = try store.sendRetrying(client, method: "GET", objectKey: store.objectKey(key),
                                            headers: [("Range", "bytes=\(first)-\(last)")],
                                            limit: max(expected, 1 << 16), reserve: expected,
                                            operation: "read", key: key) { _, body in
                body.count < expected ? "short answer: \(body.count) of \(expected) bytes at offset \(first)" : nil
            }
        } catch where cancellation.isCancelled {
            throw StorageError.io(operation: "read", key: key, location: store.location, reason: "cancelled")
        }
        let response = answer.response
        guard response.status == 206 || response.status == 200 else {
            throw store.failure("read", key, S3ErrorResponse(status: response.status, body: answer.body))
        }
        if response.status == 200 && !(first == 0 && UInt64(expected) == size) {
            throw StorageError.io(operation: "read", key: key, location: store.location,
                                  reason: "the endpoint ignored the Range header")
        }
        if let range = response.header("Content-Range"), let total = range.split(separator: "/").last,
           let totalSize = UInt64(total), totalSize != size {
            throw StorageError.io(operation: "read", key: key, location: store.location,
                                  reason: "the object changed while being read (\(size) bytes, now \(totalSize))")
        }
        guard answer.body.count == expected else {
            throw StorageError.io(operation: "read", key: key, location: store.location,
                                  reason: "the endpoint sent more than the requested range")
        }
        buffer = answer.body
        nextOffset = last + 1
    }
}
