/// The long page header at the start of every WAL segment (PostgreSQL's
/// `XLogLongPageHeaderData`, src/include/access/xlog_internal.h), in the server's byte order
/// (little-endian on every platform drctl runs on):
///
///     offset  0  xlp_magic        UInt16   0xD110 for PostgreSQL 15
///     offset  2  xlp_info         UInt16   XLP_LONG_HEADER (0x0002) set on a segment's first page
///     offset  4  xlp_tli          UInt32   timeline of the page's first record
///     offset  8  xlp_pageaddr     UInt64   the page's LSN
///     offset 16  xlp_rem_len      UInt32
///     offset 24  xlp_sysid        UInt64   the cluster's system identifier (after 4 bytes of padding)
///     offset 32  xlp_seg_size     UInt32
///     offset 36  xlp_xlog_blcksz  UInt32
///
/// `wal-push` reads it to check a segment belongs to the target's cluster before archiving it.
public struct WalSegmentHeader: Sendable, Equatable {
    public static let size = 40
    /// `XLP_LONG_HEADER`: the page carries the fields after `xlp_rem_len`.
    static let longHeaderFlag: UInt16 = 0x0002

    public let magic: UInt16
    public let timeline: UInt32
    public let pageAddress: LSN
    public let systemIdentifier: UInt64
    public let segmentSize: Int
    public let blockSize: Int

    /// Parses the first bytes of a segment file; throws naming what is wrong with them.
    public init(_ bytes: some Collection<UInt8>) throws {
        let bytes = Array(bytes.prefix(Self.size))
        guard bytes.count == Self.size else {
            throw WalHeaderError("it is \(bytes.count) bytes long, shorter than a WAL page header")
        }
        func little<T: FixedWidthInteger>(_ offset: Int, _ type: T.Type) -> T {
            var value: T = 0
            for index in (0..<MemoryLayout<T>.size).reversed() { value = value << 8 | T(bytes[offset + index]) }
            return value
        }
        let info = little(2, UInt16.self)
        guard info & Self.longHeaderFlag != 0 else {
            throw WalHeaderError("its first page has no long header (xlp_info \(info)): not the start of a WAL segment")
        }
        magic = little(0, UInt16.self)
        timeline = little(4, UInt32.self)
        pageAddress = LSN(little(8, UInt64.self))
        systemIdentifier = little(24, UInt64.self)
        segmentSize = Int(little(32, UInt32.self))
        blockSize = Int(little(36, UInt32.self))
        guard WalFileName.isValidSegmentSize(segmentSize) else {
            throw WalHeaderError("its header gives a segment size of \(segmentSize) bytes, which PostgreSQL never uses")
        }
        guard blockSize >= 1024, blockSize <= 65536, blockSize & (blockSize - 1) == 0 else {
            throw WalHeaderError("its header gives a WAL block size of \(blockSize) bytes, which PostgreSQL never uses")
        }
    }
}

/// Why the start of a file is not a WAL segment's header.
public struct WalHeaderError: Error, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
