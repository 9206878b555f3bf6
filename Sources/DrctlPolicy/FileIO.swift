import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Small file helpers that report the operating system's reason ("No such file or directory").
enum FileIO {
    struct Failure: Error {
        var reason: String
    }

    static func reason(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    static func contents(of path: String) throws(Failure) -> Data {
        let fd = open(path, O_RDONLY)
        if fd < 0 { throw Failure(reason: reason(errno)) }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            throw Failure(reason: reason(EISDIR))
        }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(reason: reason(errno))
            }
            if count == 0 { break }
            data.append(contentsOf: buffer[0..<count])
        }
        return data
    }

    /// nil if `path` is a readable regular file (or a symlink to one), else the reason why not.
    static func readableFileProblem(_ path: String) -> String? {
        var info = stat()
        if stat(path, &info) != 0 {
            return errno == ENOENT ? "does not exist" : reason(errno)
        }
        if (info.st_mode & S_IFMT) == S_IFDIR { return "is a directory, not a key file" }
        if access(path, R_OK) != 0 { return "is not readable: \(reason(errno))" }
        return nil
    }
}
