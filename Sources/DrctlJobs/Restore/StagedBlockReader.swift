import Glibc
import DrctlPipeline

/// Reads one table's data block from the archive `restore --jobs` is staging, behind the
/// writer: where the file ends for now, it waits for more (`available`).
///
/// The block (pg_backup_custom.c): a type byte (1: table data), the dump id, then chunks of
/// COPY text, each a length followed by that many bytes, ending with a zero length. Integers
/// are a sign byte and `integerSize` little-endian bytes.
struct StagedBlockReader {
    private let file: Int32
    private let integerSize: Int
    /// Given the file position a read needs, waits until the file extends beyond it and returns
    /// its size then; throws if it never will (the stream ended or failed).
    private let available: (Int) throws -> Int
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    /// File position of `buffer[end]`.
    private var position: Int
    private var releasing: Bool
    /// Pages before this position (within the block) are punched out.
    private var releasedTo: Int
    private(set) var releasedBytes = 0

    init(file: Int32, at position: Int, integerSize: Int, releasing: Bool, bufferSize: Int = 1 << 20,
         available: @escaping (Int) throws -> Int) {
        self.file = file
        self.position = position
        self.releasing = releasing
        releasedTo = Self.pageAligned(position, up: true)
        self.integerSize = integerSize
        self.available = available
        buffer = [UInt8](repeating: 0, count: bufferSize)
    }

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    /// Checks the block header: table data of dump id `id`.
    mutating func expectTableData(id: Int) throws {
        try fill(1)
        let type = buffer[start]
        start += 1
        guard type == 1 else { throw Malformed(description: "data block of entry \(id) has type \(type), not table data") }
        let found = try integer()
        guard found == id else { throw Malformed(description: "data block at the position of entry \(id) belongs to entry \(found)") }
    }

    /// Hands the block's COPY text to `body` in pieces of any size, until its end.
    mutating func forEachPiece(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        while true {
            var remaining = try integer()
            guard remaining >= 0 else { throw Malformed(description: "chunk length \(remaining)") }
            if remaining == 0 {
                release(upTo: consumed)
                return
            }
            if consumed - releasedTo >= Self.releaseStep { release(upTo: consumed) }
            while remaining > 0 {
                try fill(1)
                let take = min(remaining, end - start)
                try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[start..<start + take])) }
                start += take
                remaining -= take
            }
        }
    }

    /// File position of the next unread byte.
    private var consumed: Int { position - (end - start) }

    private static let releaseStep = 8 << 20
    /// linux/falloc.h: FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE.
    private static let punchHoleKeepingSize: Int32 = 0x02 | 0x01
    private static let page = 4096

    private static func pageAligned(_ offset: Int, up: Bool) -> Int {
        (up ? offset + page - 1 : offset) / page * page
    }

    /// Punches the whole pages between `releasedTo` and `offset` out of the file; stops trying
    /// where the file system cannot (the bytes then simply stay).
    private mutating func release(upTo offset: Int) {
        let end = Self.pageAligned(offset, up: false)
        guard releasing, end > releasedTo else { return }
        guard let fallocate = GlibcSymbols.fallocate else {
            releasing = false
            return
        }
        if fallocate(file, Self.punchHoleKeepingSize, off_t(releasedTo), off_t(end - releasedTo)) == 0 {
            releasedBytes += end - releasedTo
            releasedTo = end
        } else {
            releasing = false
        }
    }

    private mutating func integer() throws -> Int {
        try fill(1 + integerSize)
        var value = 0
        for offset in 1...integerSize where offset <= 8 { value |= Int(buffer[start + offset]) << (8 * (offset - 1)) }
        let negative = buffer[start] != 0
        start += 1 + integerSize
        return negative ? -value : value
    }

    /// At least `count` unread bytes in the buffer.
    private mutating func fill(_ count: Int) throws {
        while end - start < count {
            if start > 0 {
                buffer.withUnsafeMutableBytes { raw in
                    _ = memmove(raw.baseAddress!, raw.baseAddress! + start, end - start)
                }
                end -= start
                start = 0
            }
            let size = try available(position)
            let want = min(buffer.count - end, size - position)
            let got = buffer.withUnsafeMutableBytes { pread(file, $0.baseAddress! + end, want, off_t(position)) }
            guard got > 0 else {
                throw Malformed(description: got == 0 ? "staged archive shorter than it was written" : "read failed: \(String(cString: strerror(errno)))")
            }
            end += got
            position += got
        }
    }
}
