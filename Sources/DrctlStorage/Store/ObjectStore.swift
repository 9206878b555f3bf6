import DrctlPipeline

/// One storage backend (a local directory, an S3 bucket): the only thing commands know
/// about where bytes live. Keys are `/`-separated relative paths whose segments never start
/// with a dot (the backends use dot-names for their own temporary files).
///
/// Objects are write-once: `ObjectWriter.commit()` fails if the key already exists.
public protocol ObjectStore: Sendable {
    /// Where this store is, for messages ("/var/lib/drctl/repo", "s3://bucket/prefix").
    var location: String { get }
    /// Starts writing a new object; nothing is visible under `key` until `commit()`.
    func create(_ key: String) throws -> ObjectWriter
    /// Opens an object for streaming reads.
    func open(_ key: String) throws -> ObjectReader
    /// Opens an object a listing just returned: its size is known, so a store that would ask
    /// for it first (S3's HEAD) need not. A changed or vanished object fails the read.
    func open(listed object: ObjectInfo) throws -> ObjectReader
    /// Every object whose key starts with `prefix`, sorted by key.
    func list(prefix: String) throws -> [ObjectInfo]
    /// The object's size, or nil if it does not exist.
    func stat(_ key: String) throws -> ObjectInfo?
    /// Removes an object; removing a missing object is not an error.
    func delete(_ key: String) throws
    /// Removes many objects (S3: DeleteObjects, 1000 keys a request); missing ones are not an error.
    func delete(keys: [String]) throws
    /// This store with each request bounded by `deadline` (`RequestDeadline`), where the
    /// backend can bound it; otherwise the store itself.
    func bounded(by deadline: RequestDeadline) -> ObjectStore
}

/// An object being written. Not thread-safe: one thread writes, then commits or aborts.
public protocol ObjectWriter: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Makes the object durable and visible under its key.
    func commit() throws
    /// Discards everything written; safe to call after a failed write or commit.
    func abort()
}

/// A writer that can place bytes anywhere in the object before its commit (a local file): an
/// object whose first bytes are known last (a WAL object's signed head, which records the body's
/// size and digest) can have its body written while it is still being made, and its head last.
/// Each write starts its bytes' write-back at once, so the commit's fsync waits for little.
public protocol PositionalObjectWriter: ObjectWriter {
    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws
    /// Reads back what was written at `offset` (before the commit): up to `buffer.count` bytes,
    /// fewer only at the end of what was written.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws -> Int
}

/// A store whose writers are `PositionalObjectWriter`s (a local directory).
public protocol PositionalObjectStore: ObjectStore {
    func createPositional(_ key: String) throws -> PositionalObjectWriter
}

/// An object being read, as a pipeline source.
public protocol ObjectReader: ByteSource {
    var size: UInt64 { get }
}

public struct ObjectInfo: Sendable, Equatable {
    public var key: String
    public var size: UInt64
    /// What the store says identifies this version of the object (S3's ETag, from LIST);
    /// nil where the store gives none. With the size, it keys the read cache (`ObjectCache`).
    public var etag: String?

    public init(key: String, size: UInt64, etag: String? = nil) {
        self.key = key
        self.size = size
        self.etag = etag
    }
}

public extension ObjectStore {
    /// One by one, for stores without a batch call.
    func delete(keys: [String]) throws {
        for key in keys { try delete(key) }
    }

    /// Writes a small object in one go (manifests, records).
    func put(_ key: String, bytes: [UInt8]) throws {
        let writer = try create(key)
        do {
            try bytes.withUnsafeBytes { try writer.write($0) }
            try writer.commit()
        } catch {
            writer.abort()
            throw error
        }
    }

    func open(listed object: ObjectInfo) throws -> ObjectReader { try open(object.key) }

    /// Reads a small object whole; refuses objects above `limit` bytes.
    func get(_ key: String, limit: UInt64 = 64 << 20) throws -> [UInt8] {
        try readWhole(try open(key), key: key, limit: limit)
    }

    /// Reads a small object a listing returned whole, without asking for its size again.
    func get(listed object: ObjectInfo, limit: UInt64 = 64 << 20) throws -> [UInt8] {
        guard object.size <= limit else {
            throw StorageError.tooLarge(key: object.key, size: object.size, limit: limit, location: location)
        }
        return try readWhole(try open(listed: object), key: object.key, limit: limit)
    }

    private func readWhole(_ reader: ObjectReader, key: String, limit: UInt64) throws -> [UInt8] {
        guard reader.size <= limit else {
            throw StorageError.tooLarge(key: key, size: reader.size, limit: limit, location: location)
        }
        var bytes = [UInt8](repeating: 0, count: Int(reader.size))
        var filled = 0
        while filled < bytes.count {
            let count = try bytes.withUnsafeMutableBytes {
                try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...]))
            }
            if count == 0 { break }
            filled += count
        }
        guard filled == bytes.count else {
            throw StorageError.io(operation: "read", key: key, location: location,
                                  reason: "object shrank while being read (\(filled) of \(bytes.count) bytes)")
        }
        return bytes
    }
}
