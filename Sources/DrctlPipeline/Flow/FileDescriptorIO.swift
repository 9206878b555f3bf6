import Glibc

/// read(2) and write(2) with EINTR retried and short writes completed: the loops every
/// file-descriptor source and sink needs. Errors come back as errno values so that each
/// caller can name its own object in the message.
public enum FileDescriptorIO {
    /// Reads up to `buffer.count` bytes: the count (0 at end of file) or `.failure(errno)`.
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Result<Int, Errno> {
        while true {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count >= 0 { return .success(count) }
            if errno != EINTR { return .failure(Errno(errno)) }
        }
    }

    /// Writes every byte, or returns the errno that stopped it.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Errno? {
        var offset = 0
        while offset < bytes.count {
            let count = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if count < 0 {
                if errno == EINTR { continue }
                return Errno(errno)
            }
            offset += count
        }
        return nil
    }
}

/// An errno value with its message.
public struct Errno: Error, Equatable, CustomStringConvertible {
    public let code: Int32

    public init(_ code: Int32) { self.code = code }

    public var description: String { String(cString: strerror(code)) }
    public var isNoSpace: Bool { code == ENOSPC || code == EDQUOT }
}

/// Starts write-back of a file being written as it grows, so that its final fsync has little
/// left to wait for. Linux has no portable "start write-back" call in Swift's view of glibc
/// (sync_file_range needs _GNU_SOURCE); posix_fadvise(DONTNEED) on the range just written
/// does the same: it starts write-back of its dirty pages (which it cannot drop), and the
/// pages stay cached once written back because the range is never advised again.
public struct WriteBehind {
    /// How often to act: every 8 MiB written.
    static let step = 8 << 20
    private var written = 0
    private var advised = 0

    public init() {}

    public mutating func wrote(_ count: Int, to fd: Int32) {
        written += count
        guard written - advised >= Self.step else { return }
        _ = posix_fadvise(fd, off_t(advised), off_t(written - advised), POSIX_FADV_DONTNEED)
        advised = written
    }
}
