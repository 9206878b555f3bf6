import DrctlPipeline
import Foundation

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
