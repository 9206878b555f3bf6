import Foundation
import Glibc
import DrctlPipeline

/// A small private file that exists only in memory (`memfd_create`), mode 0600: a secret a
/// child program must read from a file (libpq's password file) without ever being on a disk.
/// Nothing needs removing afterwards: the file goes when its last descriptor closes, this
/// object's and the children's, so even a drctl killed mid-run leaves nothing behind.
public final class MemoryFile: Sendable {
    /// Close-on-exec here; `ChildProcess` gives it to a child explicitly (`ChildEnvironment`).
    public let descriptor: Int32

    /// - Parameter name: shown only in `/proc/PID/fd` (`memfd:<name>`), for whoever looks.
    public init(name: String, contents: Data) throws {
        guard let create = GlibcSymbols.memfdCreate else {
            throw MemoryFileError("this C library has no memfd_create (glibc 2.27 or newer is needed)")
        }
        let fd = create(name, memfdCloseOnExec)
        guard fd >= 0 else { throw MemoryFileError("memfd_create: \(String(cString: strerror(errno)))") }
        // A new memfd is 0777; libpq ignores a password file others could read.
        guard fchmod(fd, 0o600) == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw MemoryFileError("fchmod: \(reason)")
        }
        let failure = contents.withUnsafeBytes { FileDescriptorIO.writeAll(fd, $0) }
        if let failure {
            Glibc.close(fd)
            throw MemoryFileError("writing it: \(failure)")
        }
        descriptor = fd
    }

    deinit { Glibc.close(descriptor) }
}

/// MFD_CLOEXEC from <sys/mman.h>, hidden from Swift behind _GNU_SOURCE.
private let memfdCloseOnExec: UInt32 = 1

public struct MemoryFileError: Error, CustomStringConvertible {
    public let reason: String
    init(_ reason: String) { self.reason = reason }
    public var description: String { "cannot make an in-memory file for a child program: \(reason)" }
}
