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

    /// pread(2) or pwrite(2) (`call`, given the bytes done so far) repeated until `count` bytes
    /// are done or it returns 0 (a read's end of file), EINTR retried: the bytes done, or the errno.
    public static func positional(count: Int, _ call: (_ done: Int) -> Int) -> Result<Int, Errno> {
        var done = 0
        while done < count {
            let result = call(done)
            if result < 0 {
                if errno == EINTR { continue }
                return .failure(Errno(errno))
            }
            if result == 0 { break }
            done += result
        }
        return .success(done)
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
