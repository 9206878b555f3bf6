import Glibc
import DrctlPipeline

/// A repository in a local directory (or any mounted file system): the embedded default.
///
/// An object is written to a hidden temporary file beside its final name, fsynced, then
/// hard-linked to the final name (which fails if the name exists: write-once) and the
/// directory fsynced; only then is it visible. A crash leaves at most a hidden temporary file.
public struct LocalDirectoryStore: PositionalObjectStore {
    public let root: String

    /// - Parameter root: an absolute directory path; created on the first write.
    public init(root: String) {
        var trimmed = root
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.root = trimmed
    }

    public var location: String { root }

    public func create(_ key: String) throws -> ObjectWriter {
        try createPositional(key)
    }

    public func createPositional(_ key: String) throws -> PositionalObjectWriter {
        let path = try self.path(of: key)
        let directory = parent(of: path)
        try makeDirectories(directory, key: key)
        let name = String(path.split(separator: "/").last!)
        let temporary = "\(directory)/.\(name).tmp-\(randomSuffix())"
        // Read and write: a positional writer reads back what it wrote (`read(into:at:)`).
        let fd = Glibc.open(temporary, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("create", key) }
        return LocalObjectWriter(store: self, key: key, fd: fd, temporary: temporary, final: path)
    }

    public func open(_ key: String) throws -> ObjectReader {
        let path = try self.path(of: key)
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw StorageError.notFound(key: key, location: location) }
            throw failure("open", key)
        }
        var info = Glibc.stat()
        guard fstat(fd, &info) == 0 else {
            let error = failure("stat", key)
            close(fd)
            throw error
        }
        return LocalObjectReader(store: self, key: key, fd: fd, size: UInt64(info.st_size))
    }

    public func list(prefix: String) throws -> [ObjectInfo] {
        // Walk from the deepest directory the prefix names completely.
        let directoryPart = prefix.contains("/") ? String(prefix[..<prefix.lastIndex(of: "/")!]) : ""
        var found: [ObjectInfo] = []
        try walk(directoryPart, into: &found)
        return found.filter { $0.key.hasPrefix(prefix) }.sorted { $0.key < $1.key }
    }

    public func stat(_ key: String) throws -> ObjectInfo? {
        let path = try self.path(of: key)
        guard let info = fileStatus(path) else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw failure("stat", key)
        }
        return ObjectInfo(key: key, size: UInt64(info.st_size))
    }

    public func delete(_ key: String) throws {
        let path = try self.path(of: key)
        if unlink(path) != 0 && errno != ENOENT { throw failure("delete", key) }
        // Remove directories the deletion emptied, up to (not including) the root.
        var directory = parent(of: path)
        while directory.count > root.count && rmdir(directory) == 0 {
            directory = parent(of: directory)
        }
    }

    // MARK: - Paths

    func path(of key: String) throws -> String {
        let segments = key.split(separator: "/", omittingEmptySubsequences: false)
        guard !key.isEmpty, segments.allSatisfy({ !$0.isEmpty && !$0.hasPrefix(".") }) else {
            throw StorageError.invalidKey(key)
        }
        return root == "/" ? "/\(key)" : "\(root)/\(key)"
    }

    private func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private func makeDirectories(_ directory: String, key: String) throws {
        if directory == root || directory.count <= 1 {
            if mkdir(directory, 0o700) != 0 && errno != EEXIST { throw failure("create the directory for", key) }
            return
        }
        if fileStatus(directory) != nil { return }
        try makeDirectories(parent(of: directory), key: key)
        if mkdir(directory, 0o700) != 0 && errno != EEXIST { throw failure("create the directory for", key) }
        // The new directory's entry must survive a crash as much as the file inside it.
        try syncDirectory(parent(of: directory), key: key)
    }

    func syncDirectory(_ directory: String, key: String) throws {
        let fd = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("open the directory of", key) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("sync the directory of", key) }
    }

    private func walk(_ relative: String, into found: inout [ObjectInfo]) throws {
        let directory = relative.isEmpty ? root : "\(root)/\(relative)"
        guard let handle = opendir(directory) else {
            if errno == ENOENT || errno == ENOTDIR { return }
            throw failure("list", relative.isEmpty ? "/" : relative)
        }
        defer { closedir(handle) }
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name.hasPrefix(".") { continue }   // ., .., and our temporary files
            let key = relative.isEmpty ? name : "\(relative)/\(name)"
            var info = Glibc.stat()
            guard lstat("\(root)/\(key)", &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR: try walk(key, into: &found)
            case S_IFREG: found.append(ObjectInfo(key: key, size: UInt64(info.st_size)))
            default: continue
            }
        }
    }

    /// The error of a failed system call: `error`, or else the current errno.
    func failure(_ operation: String, _ key: String, _ error: Errno? = nil) -> StorageError {
        let error = error ?? Errno(errno)
        if error.isNoSpace { return .noSpace(key: key, location: location) }
        return .io(operation: operation, key: key, location: location, reason: "\(error)")
    }

    private func randomSuffix() -> String {
        (0..<8).map { _ in String(UInt8.random(in: 0...15), radix: 16) }.joined()
    }
}

/// stat(2); nil with errno set on failure. (At file scope: inside the store `stat` is the
/// store's own method.)
private func fileStatus(_ path: String) -> stat? {
    var info = stat()
    return stat(path, &info) == 0 ? info : nil
}

final class LocalObjectWriter: PositionalObjectWriter {
    private let store: LocalDirectoryStore
    private let key: String
    private var fd: Int32
    private let temporary: String
    private let final: String

    init(store: LocalDirectoryStore, key: String, fd: Int32, temporary: String, final: String) {
        self.store = store
        self.key = key
        self.fd = fd
        self.temporary = temporary
        self.final = final
        writeBehind = WriteBehind(fd: fd)
    }

    private let writeBehind: WriteBehind

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        if let error = FileDescriptorIO.writeAll(fd, bytes) { throw store.failure("write", key, error) }
        writeBehind.wrote(bytes.count)
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
        let written = FileDescriptorIO.positional(count: bytes.count) { done in
            pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
        }
        switch written {
        case .failure(let error): throw store.failure("write", key, error)
        case .success(let count) where count < bytes.count: throw store.failure("write", key, Errno(EIO))
        case .success: WriteBack.start(fd, offset: offset, count: bytes.count)
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws -> Int {
        let read = FileDescriptorIO.positional(count: buffer.count) { done in
            pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
        }
        return try read.mapError { store.failure("read back", key, $0) }.get()
    }

    func commit() throws {
        if let error = writeBehind.syncFile() { throw store.failure("sync", key, error) }
        let closed = close(fd)
        fd = -1
        guard closed == 0 else { throw store.failure("close", key) }
        // link(2) refuses an existing name: a stored object is never replaced.
        if link(temporary, final) != 0 {
            if errno == EEXIST { throw StorageError.alreadyExists(key: key, location: store.location) }
            throw store.failure("publish", key)
        }
        unlink(temporary)
        let directory = String(final[..<final.lastIndex(of: "/")!])
        try store.syncDirectory(directory.isEmpty ? "/" : directory, key: key)
    }

    func abort() {
        writeBehind.cancel()
        if fd >= 0 {
            close(fd)
            fd = -1
        }
        unlink(temporary)
    }

    deinit { abort() }
}

final class LocalObjectReader: ObjectReader {
    private let store: LocalDirectoryStore
    private let key: String
    private let fd: Int32
    let size: UInt64

    init(store: LocalDirectoryStore, key: String, fd: Int32, size: UInt64) {
        self.store = store
        self.key = key
        self.fd = fd
        self.size = size
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        switch FileDescriptorIO.read(fd, into: buffer) {
        case .success(let count): return count
        case .failure(let error): throw store.failure("read", key, error)
        }
    }

    func finish() throws {}
    func cancel() {}

    deinit { close(fd) }
}

/// sync_file_range(2) with SYNC_FILE_RANGE_WRITE: starts writing a range back to the disk and
/// returns at once, so the fsync that commits the file later waits only for what is left (for
/// a WAL object's ~5 MB on this ext4 disk, about half the fsync: BENCHMARKS.md, "wal-push").
/// Advisory: its errors are the fsync's to report. Looked up at run time: Glibc's Swift module
/// does not declare it (a GNU extension).
enum WriteBack {
    private typealias SyncFileRange = @convention(c) (Int32, Int64, Int64, UInt32) -> Int32
    private static let syncFileRange: SyncFileRange? = dlsym(nil, "sync_file_range").map { unsafeBitCast($0, to: SyncFileRange.self) }
    /// SYNC_FILE_RANGE_WRITE (linux/fs.h).
    private static let write: UInt32 = 2

    static func start(_ fd: Int32, offset: UInt64, count: Int) {
        _ = syncFileRange?(fd, Int64(offset), Int64(count), write)
    }
}
