import DrctlPipeline
import DrctlStorage
import Glibc

/// A WAL file `wal-push` archives, open for reading: its size and first bytes (the segment
/// header `wal-push` checks before anything else) read at once, the rest once, in pieces, by
/// `WalFileSealing`. Nothing holds the whole file: mapped or read whole, its 16 MiB counted in
/// the push's peak memory (BENCHMARKS.md, "wal-push").
final class WalFile: Sendable {
    let path: String
    let size: Int
    /// The first bytes, at most a segment header's (`WalSegmentHeader.size`).
    let prefix: [UInt8]
    private let descriptor: Int32

    init(path: String) throws {
        self.path = path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw WalError.unreadableFile(path: path, reason: "\(Errno(errno))") }
        self.descriptor = descriptor
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let error = Errno(errno)
            close(descriptor)
            throw WalError.unreadableFile(path: path, reason: "\(error)")
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            throw WalError.unreadableFile(path: path, reason: "it is not a regular file")
        }
        size = Int(status.st_size)
        var prefix = [UInt8](repeating: 0, count: min(size, WalSegmentHeader.size))
        let count = prefix.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count == prefix.count else {
            let reason = count < 0 ? "\(Errno(errno))" : "it became shorter while it was read"
            close(descriptor)
            throw WalError.unreadableFile(path: path, reason: reason)
        }
        self.prefix = prefix
    }

    deinit { close(descriptor) }

    /// Reads the file from its start in pieces of `buffer`'s size, giving each to `each`; the
    /// file must still be `size` bytes long (PostgreSQL does not change a file it archives).
    func read(into buffer: UnsafeMutableRawBufferPointer, _ each: (UnsafeRawBufferPointer) throws -> Void) throws {
        var offset = 0
        while offset < size {
            let wanted = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(buffer.count, size - offset)])
            var count = 0
            while true {
                count = pread(descriptor, wanted.baseAddress, wanted.count, off_t(offset))
                if count >= 0 || errno != EINTR { break }
            }
            guard count > 0 else {
                throw WalError.unreadableFile(path: path, reason: count < 0 ? "\(Errno(errno))" : "it became shorter while it was read")
            }
            try each(UnsafeRawBufferPointer(rebasing: wanted[0..<count]))
            offset += count
        }
    }
}
