import Foundation

/// The parts of one multipart upload that are on their way, each on its own thread with its own
/// connection, at most `limit` at once (the writer fills the next part meanwhile). Memory: the
/// parts in flight plus the one being filled, each buffered whole (its SHA-256 is signed).
// unchecked: every `var` is guarded by `condition` (an NSCondition, for its waits).
final class S3PartUploads: @unchecked Sendable {
    private let condition = NSCondition()
    private var inFlight = 0
    private var parts: [Int: S3UploadedPart] = [:]
    private var failure: Error?

    /// Starts `send` for part `number` on a thread of its own, once fewer than `limit` other parts
    /// are in flight; throws the first failure of an earlier part instead.
    func start(part number: Int, limit: Int, _ send: @escaping @Sendable () throws -> S3UploadedPart) throws {
        condition.lock()
        while failure == nil && inFlight >= max(limit, 1) { condition.wait() }
        if let failure {
            condition.unlock()
            throw failure
        }
        inFlight += 1
        condition.unlock()
        let thread = Thread { [self] in
            let result = Result { try send() }
            condition.lock()
            switch result {
            case .success(let part): parts[number] = part
            case .failure(let error): if failure == nil { failure = error }
            }
            inFlight -= 1
            condition.broadcast()
            condition.unlock()
        }
        thread.name = "drctl-s3-part"
        thread.start()
    }

    /// Waits until no part is in flight; returns the parts by part number, or throws the first failure.
    func finish() throws -> [S3UploadedPart] {
        waitForAll()
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw failure }
        return parts.values.sorted { $0.number < $1.number }
    }

    /// Waits until every part in flight has ended (succeeded or failed).
    func waitForAll() {
        condition.lock()
        while inFlight > 0 { condition.wait() }
        condition.unlock()
    }

    var isEmpty: Bool {
        condition.lock()
        defer { condition.unlock() }
        return parts.isEmpty && inFlight == 0
    }
}

/// One part S3 has accepted: what CompleteMultipartUpload lists for it.
struct S3UploadedPart: Sendable {
    let number: Int
    let etag: String
    /// The part's SHA-256, base64 (`S3BodyDigest.base64`), as its UploadPart sent it.
    let checksumSHA256: String

    /// The part's `<Part>` in CompleteMultipartUpload; its checksum only if its UploadPart sent one.
    func element(withChecksum: Bool) -> String {
        "<Part><PartNumber>\(number)</PartNumber><ETag>\(S3XMLElement.escaped(etag))</ETag>"
            + (withChecksum ? "<ChecksumSHA256>\(checksumSHA256)</ChecksumSHA256>" : "") + "</Part>"
    }
}
