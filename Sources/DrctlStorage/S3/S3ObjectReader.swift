import DrctlPipeline
import Foundation

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
