import Foundation

/// The cluster's system identifier from a data directory's `global/pg_control`: the first
/// field of `ControlFileData` (src/include/catalog/pg_control.h), a UInt64 in the server's
/// byte order (little-endian where drctl runs). `wal-push` runs in the data directory (the
/// archiver's working directory), so it knows whose WAL it is given without a connection.
enum PgControl {
    static func systemIdentifier(dataDirectory: String) throws -> UInt64 {
        let path = (dataDirectory as NSString).appendingPathComponent("global/pg_control")
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw WalError.unreadableFile(path: path, reason: String(cString: strerror(errno)))
        }
        defer { try? handle.close() }
        let bytes = [UInt8]((try? handle.read(upToCount: 8)) ?? Data())
        guard bytes.count == 8 else { throw WalError.unreadableFile(path: path, reason: "shorter than a control file") }
        return bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
}
