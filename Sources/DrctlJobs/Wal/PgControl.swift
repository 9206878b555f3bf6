import DrctlPipeline
import Foundation
import Glibc

/// The cluster's system identifier from a data directory's `global/pg_control`: the first
/// field of `ControlFileData` (src/include/catalog/pg_control.h), a UInt64 in the server's
/// byte order (little-endian where drctl runs). `wal-push` runs in the data directory (the
/// archiver's working directory), so it knows whose WAL it is given without a connection.
enum PgControl {
    /// Throws `WalError.unreadableFile` naming what open(2) or read(2) said (a directory there:
    /// "Is a directory"), or "shorter than a control file" for a file that ends before the field.
    static func systemIdentifier(dataDirectory: String) throws -> UInt64 {
        let path = (dataDirectory as NSString).appendingPathComponent("global/pg_control")
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw WalError.unreadableFile(path: path, reason: "\(Errno(errno))") }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: 8)
        var filled = 0
        while filled < bytes.count {
            let read = bytes.withUnsafeMutableBytes {
                FileDescriptorIO.read(descriptor, into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...]))
            }
            switch read {
            case .failure(let error): throw WalError.unreadableFile(path: path, reason: "\(error)")
            case .success(0): throw WalError.unreadableFile(path: path, reason: "shorter than a control file")
            case .success(let count): filled += count
            }
        }
        return bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
}
