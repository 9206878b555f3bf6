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
///
/// By concern: `S3Endpoint` (endpoint parsing, addressing), `S3Requests` (building and signing),
/// `S3Retry` (which answers are retried, over `HTTPRetry`), `S3ErrorMapping` (answers and
/// transport failures as `StorageError`), `S3Listing`, `S3PendingUploads`, `S3BatchDelete`,
/// `S3ObjectWriter` and `S3ObjectReader`; this file holds the `ObjectStore` operations.
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
    public var retryPolicy = HTTPRetryPolicy.s3
    /// The total time one request may take over all its attempts, in seconds.
    public var retryDeadline: Double {
        get { retryPolicy.deadline }
        set { retryPolicy.deadline = newValue }
    }
    /// Bounds each request, retries included (`bounded(by:)`); nil: only `retryPolicy` does.
    public private(set) var deadline: RequestDeadline?
    /// Retries done so far by this store (shared with its copies, readers and writers).
    public let retryCounter = HTTPRetryCounter()
    public var retries: Int { retryCounter.value }

    let address: S3Endpoint
    var secure: Bool { address.secure }
    var host: String { address.host }
    var port: Int? { address.port }

    public init(endpoint: String, region: String, bucket: String, prefix: String, pathStyle: Bool,
                credentials: S3Credentials, settings: HTTPSettings = HTTPSettings(), partSize: Int = 5 << 20) throws {
        try self.init(endpoint: endpoint, region: region, bucket: bucket, prefix: prefix, pathStyle: pathStyle,
                      credentials: S3CredentialSource(fixed: credentials), settings: settings, partSize: partSize)
    }

    public init(endpoint: String, region: String, bucket: String, prefix: String, pathStyle: Bool,
                credentials: S3CredentialSource, settings: HTTPSettings = HTTPSettings(), partSize: Int = 5 << 20) throws {
        address = try S3Endpoint(endpoint)
        guard !bucket.isEmpty, !bucket.contains("/") else {
            throw S3ConfigurationError("bucket name '\(bucket)' is empty or contains '/'")
        }
        guard partSize > 0 else { throw S3ConfigurationError("part size must be positive") }
        self.endpoint = address.url
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

    /// Keys are `/`-separated, non-empty segments not starting with a dot (as for every store).
    func validate(_ key: String) throws {
        let segments = key.split(separator: "/", omittingEmptySubsequences: false)
        guard !key.isEmpty, segments.allSatisfy({ !$0.isEmpty && !$0.hasPrefix(".") }) else {
            throw StorageError.invalidKey(key)
        }
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
