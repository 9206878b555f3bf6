import Glibc

/// Reads a `pg_dump --format=custom --compress=0` archive as it streams past. At backup it counts
/// the rows of every table, so the manifest's row counts are exactly those of the dumped snapshot
/// (a count(*) beforehand would be a different snapshot on a busy server, and would read every
/// table twice). At `restore --jobs` it hands on the table of contents and where each data block
/// starts (`onTableOfContents`, `onDataBlock`), so tables load while the archive is staged.
///
/// The archive (pg_dump's pg_backup_archiver.c and pg_backup_custom.c, versions 1.12–1.16):
/// a header ("PGDMP", version, int and offset sizes, format, compression, creation time, names),
/// the table of contents (one entry per object: dump id, tag, desc, namespace, ...), then one
/// data block per entry that has data: a type byte (1 = table data, 3 = large objects), the
/// dump id, and length-prefixed chunks ending with a zero length. Uncompressed table data is
/// COPY text: one row per line (newlines inside values are escaped).
///
/// It also notes where each data block starts (`offsetPatches`), for the archive that
/// `restore --jobs` stages: pg_dump could not write those offsets into a pipe.
public final class CustomArchiveScanner {
    public struct Table: Sendable, Equatable {
        public let schema: String
        public let table: String
        public let rows: Int64

        public init(schema: String, table: String, rows: Int64) {
            self.schema = schema
            self.table = table
            self.rows = rows
        }
    }

    /// One entry of the table of contents: what a restore needs of it.
    public struct Entry: Sendable, Equatable {
        public let id: Int
        public let desc: String
        public let schema: String?
        public let tag: String?
        /// TABLE DATA: the statement its data block feeds, e.g. `COPY s.t (a, b) FROM stdin;`.
        public let copyStatement: String?
        /// ENCODING, STDSTRINGS, SEARCHPATH: the statement that sets a session up as pg_dump's
        /// was; DATABASE: its `CREATE DATABASE` statement.
        public let definition: String?
        /// The tablespace the object is created in; nil or empty for the database's default.
        public let tablespace: String?
        public let owner: String?

        public init(id: Int, desc: String, schema: String?, tag: String?, copyStatement: String?, definition: String?,
                    tablespace: String? = nil, owner: String? = nil) {
            self.id = id
            self.desc = desc
            self.schema = schema
            self.tag = tag
            self.copyStatement = copyStatement
            self.definition = definition
            self.tablespace = tablespace
            self.owner = owner
        }

        static let tableData = "TABLE DATA"
        static let database = "DATABASE"
        static let sessionSettings: Set<String> = ["ENCODING", "STDSTRINGS", "SEARCHPATH"]

        public var isTableData: Bool { desc == Self.tableData }
        public var isSessionSetting: Bool { Self.sessionSettings.contains(desc) }
        /// The `CREATE DATABASE` entry (pg_dump writes it into every archive; pg_restore runs it
        /// only with `--create`).
        public var isDatabase: Bool { desc == Self.database }
        /// What belongs to the database itself rather than to its contents: its creation, its
        /// settings (`DATABASE PROPERTIES`: ALTER DATABASE … SET, CONNECTION LIMIT, IS_TEMPLATE,
        /// ALTER ROLE … IN DATABASE … SET), and its comment, security labels and privileges.
        /// pg_restore restores these only with `--create`.
        public var isDatabaseLevel: Bool {
            if desc == Self.database || desc == "DATABASE PROPERTIES" { return true }
            return ["COMMENT", "SECURITY LABEL", "ACL"].contains(desc) && (tag?.hasPrefix("DATABASE ") ?? false)
        }
    }

    /// Called once, when the table of contents has been read: its entries and the archive's
    /// integer width in bytes (after each integer's sign byte).
    public var onTableOfContents: ((_ entries: [Entry], _ integerSize: Int) -> Void)?
    /// Called as each data block's header passes: its dump id and the stream position of its
    /// first byte (bytes up to the end of the piece being consumed have passed).
    public var onDataBlock: ((_ id: Int, _ position: Int) -> Void)?
    public enum Failure: Error, CustomStringConvertible, Equatable {
        case notAnArchive
        case unsupportedVersion(String)
        case compressed
        case malformed(String)

        public var description: String {
            switch self {
            case .notAnArchive: return "not a pg_dump custom-format archive"
            case .unsupportedVersion(let version): return "archive version \(version) is not one drctl can read (1.12-1.16)"
            case .compressed: return "the archive is compressed (drctl runs pg_dump with --compress=0)"
            case .malformed(let what): return "malformed archive: \(what)"
            }
        }
    }

    /// Table data entries of the table of contents, by dump id.
    private var tableOfID: [Int: (schema: String, table: String)] = [:]
    /// Rows of blocks already left behind; the current block's are in `currentRows`.
    private var rowsOfID: [Int: Int64] = [:]
    private var order: [Int] = []
    /// Bytes of the header and table of contents until they are complete.
    private var head: [UInt8] = []
    private var intSize = 4
    private var state = State.head
    /// A small field (type byte or int) being assembled across pieces.
    private var field: [UInt8] = []
    private var currentID = 0
    private var inLargeObjects = false
    /// The current block is a table's data whose rows are counted.
    private var countingRows = false
    /// Rows of the current block so far (a dictionary update per chunk, that is per row, cost
    /// 1% of a backup's CPU).
    private var currentRows: Int64 = 0
    /// The current line's length and first two bytes: a line of only `\.` ends COPY data.
    private var lineBytes = 0
    private var linePrefix = LinePrefix()
    private var copyEnded = false
    public private(set) var failure: Failure?
    /// The size of the header and table of contents, once they were read: a prefix of the
    /// archive that pg_restore can read on its own for entries that have no data.
    public private(set) var headSize: Int?
    /// Bytes consumed before the current piece: stream positions, for `offsetFixes`.
    private var consumed = 0
    private var offsetSize = 8
    /// Per dump id: where its TOC entry's data offset (flag byte, then the offset) lies, and
    /// the flag found there.
    private var offsetFields: [Int: (position: Int, flag: UInt8)] = [:]
    /// Per dump id: where its data block (its type byte) begins.
    private var blockStarts: [Int: Int] = [:]
    private var blockStart = 0

    private enum State {
        case head
        case blockType
        case blockID
        case chunkLength
        case chunk(remaining: Int)
        case largeObjectID
    }

    /// Whether to count rows (`tables`): a restore needs only the entries and block positions.
    private let countsRows: Bool

    public init(countingRows: Bool = true) {
        countsRows = countingRows
    }

    /// The counts so far, in archive order; complete once the whole archive went through.
    public var tables: [Table] {
        order.compactMap { id in
            tableOfID[id].map { Table(schema: $0.schema, table: $0.table, rows: rows(of: id)) }
        }
    }

    private func rows(of id: Int) -> Int64 {
        countingRows && id == currentID ? currentRows : rowsOfID[id] ?? 0
    }

    /// A change to the archive's bytes: `bytes` written at `position`.
    public struct Patch: Sendable, Equatable {
        public let position: Int
        public let bytes: [UInt8]
    }

    /// What pg_dump itself writes when its output is a file it can seek in: the position of
    /// each data block in its TOC entry. An archive that went through a pipe lacks them, and
    /// `pg_restore --jobs` must then find every table's data by skipping block by block from the
    /// start of the file. Complete once the whole archive went through; empty if it could not
    /// be read.
    public var offsetPatches: [Patch] {
        guard failure == nil else { return [] }
        return offsetFields.keys.sorted().compactMap { id in
            guard let field = offsetFields[id], field.flag == Self.offsetNotSet, let start = blockStarts[id] else { return nil }
            var bytes: [UInt8] = [Self.offsetSet]
            var value = UInt64(start)
            for _ in 0..<offsetSize {
                bytes.append(UInt8(value & 0xff))
                value >>= 8
            }
            return Patch(position: field.position, bytes: bytes)
        }
    }

    /// pg_backup_archiver.h: K_OFFSET_POS_NOT_SET, K_OFFSET_POS_SET.
    private static let offsetNotSet: UInt8 = 1
    private static let offsetSet: UInt8 = 2

    public func consume(_ bytes: UnsafeRawBufferPointer) {
        guard failure == nil, !bytes.isEmpty else { return }
        let start = consumed
        consumed += bytes.count
        do {
            guard case .head = state else { return try scanData(bytes, at: start) }
            head.append(contentsOf: bytes)
            guard let used = try parseHead() else { return }
            let tail = Array(head[used...])
            head = []
            try tail.withUnsafeBytes { try scanData($0, at: used) }
        } catch let error as Failure {
            failure = error
        } catch {
            failure = .malformed("\(error)")
        }
    }

    // MARK: Header and table of contents

    struct NeedMore: Error {}

    /// Parses the header and TOC from `head`; nil when more bytes are needed, else the number
    /// of bytes they took.
    private func parseHead() throws -> Int? {
        var reader = Reader(bytes: head)
        do {
            guard try reader.bytes(5) == Array("PGDMP".utf8) else { throw Failure.notAnArchive }
            let major = Int(try reader.byte()), minor = Int(try reader.byte()), revision = Int(try reader.byte())
            let version = (major, minor)
            guard major == 1, (12...16).contains(minor) else {
                throw Failure.unsupportedVersion("\(major).\(minor).\(revision)")
            }
            intSize = Int(try reader.byte())
            guard (1...8).contains(intSize) else { throw Failure.malformed("integer size \(intSize)") }
            reader.intSize = intSize
            let offsetSize = Int(try reader.byte())
            guard (1...8).contains(offsetSize) else { throw Failure.malformed("offset size \(offsetSize)") }
            guard try reader.byte() == 1 else { throw Failure.malformed("not the custom format") }
            if version.1 >= 15 {
                guard try reader.byte() == 0 else { throw Failure.compressed }
            } else {
                guard try reader.int() == 0 else { throw Failure.compressed }
            }
            for _ in 0..<7 { _ = try reader.int() }         // creation time
            for _ in 0..<3 { _ = try reader.string() }      // database, server and pg_dump versions
            let count = try reader.int()
            guard count >= 0 else { throw Failure.malformed("TOC count \(count)") }
            var tables: [Int: (String, String)] = [:]
            var order: [Int] = []
            var offsetFields: [Int: (position: Int, flag: UInt8)] = [:]
            var entries: [Entry] = []
            for _ in 0..<count {
                let id = try reader.int()
                _ = try reader.int()                         // had a data dumper
                _ = try reader.string()                      // table oid
                _ = try reader.string()                      // oid
                let tag = try reader.string()
                let desc = try reader.string() ?? ""
                _ = try reader.int()                         // section
                let definition = try reader.string()
                _ = try reader.string()                      // drop statement
                let copyStatement = try reader.string()
                let namespace = try reader.string()
                let tablespace = try reader.string()
                if version.1 >= 14 { _ = try reader.string() }   // table access method
                if version.1 >= 16 { _ = try reader.int() }      // relkind
                let owner = try reader.string()
                _ = try reader.string()                      // "false": with OIDs
                while try reader.string() != nil {}          // dependencies, ending with NULL
                let offsetAt = reader.position
                let flag = try reader.byte()                 // data offset flag
                _ = try reader.bytes(offsetSize)             // and the offset
                offsetFields[id] = (offsetAt, flag)
                let keepsDefinition = Entry.sessionSettings.contains(desc) || desc == Entry.database
                let entry = Entry(id: id, desc: desc, schema: namespace, tag: tag,
                                  copyStatement: desc == Entry.tableData ? copyStatement : nil,
                                  definition: keepsDefinition ? definition : nil,
                                  tablespace: tablespace, owner: owner)
                entries.append(entry)
                if entry.isTableData, let tag, let namespace {
                    tables[id] = (namespace, tag)
                    order.append(id)
                }
            }
            tableOfID = tables.mapValues { (schema: $0.0, table: $0.1) }
            self.order = order
            self.offsetFields = offsetFields
            self.offsetSize = offsetSize
            state = .blockType
            headSize = reader.position
            onTableOfContents?(entries, intSize)
            return reader.position
        } catch is NeedMore {
            return nil
        }
    }

    /// Little-endian reads with pg_dump's sign-byte integers.
    private struct Reader {
        let bytes: [UInt8]
        var position = 0
        var intSize = 4

        mutating func byte() throws -> UInt8 {
            guard position < bytes.count else { throw NeedMore() }
            defer { position += 1 }
            return bytes[position]
        }

        mutating func bytes(_ count: Int) throws -> [UInt8] {
            guard position + count <= bytes.count else { throw NeedMore() }
            defer { position += count }
            return Array(bytes[position..<position + count])
        }

        mutating func int() throws -> Int {
            let sign = try byte()
            var value = 0
            for (index, byte) in try bytes(intSize).enumerated() where index < 8 { value |= Int(byte) << (8 * index) }
            return sign == 0 ? value : -value
        }

        mutating func string() throws -> String? {
            let length = try int()
            guard length >= 0 else { return nil }
            return String(decoding: try bytes(length), as: UTF8.self)
        }
    }

    // MARK: Data blocks

    /// `bytes` begin at stream position `base`.
    private func scanData(_ bytes: UnsafeRawBufferPointer, at base: Int) throws {
        var index = 0
        while index < bytes.count {
            switch state {
            case .head:
                return
            case .chunk(let remaining):
                let take = min(remaining, bytes.count - index)
                if countingRows {
                    countLines(UnsafeRawBufferPointer(rebasing: bytes[index..<index + take]))
                }
                index += take
                state = remaining == take ? .chunkLength : .chunk(remaining: remaining - take)
            case .blockType:
                let type = bytes[index]
                blockStart = base + index
                index += 1
                guard type == 1 || type == 3 else { throw Failure.malformed("data block type \(type)") }
                inLargeObjects = type == 3
                state = .blockID
            case .blockID, .chunkLength, .largeObjectID:
                // pg_dump writes one chunk per COPY row: its length is read in one step when
                // the piece holds all of it, byte by byte only across pieces.
                let size = 1 + intSize
                if field.isEmpty && bytes.count - index >= size {
                    try advance(with: Self.integer(UnsafeRawBufferPointer(rebasing: bytes[index..<index + size])))
                    index += size
                    continue
                }
                field.append(bytes[index])
                index += 1
                guard field.count == size else { continue }
                let value = field.withUnsafeBytes { Self.integer($0) }
                field.removeAll(keepingCapacity: true)
                try advance(with: value)
            }
        }
    }

    /// pg_dump's integer: a sign byte, then `intSize` little-endian magnitude bytes.
    private static func integer(_ field: UnsafeRawBufferPointer) -> Int {
        var value = 0
        for offset in 1..<min(field.count, 9) { value |= Int(field[offset]) << (8 * (offset - 1)) }
        return field[0] == 0 ? value : -value
    }

    /// A complete integer field was read in the current state.
    private func advance(with value: Int) throws {
        switch state {
        case .blockID:
            if countingRows { rowsOfID[currentID] = currentRows }
            currentID = value
            if blockStarts[value] == nil {
                blockStarts[value] = blockStart
                onDataBlock?(value, blockStart)
            }
            countingRows = countsRows && !inLargeObjects && tableOfID[value] != nil
            currentRows = 0
            lineBytes = 0
            linePrefix = LinePrefix()
            copyEnded = false
            state = inLargeObjects ? .largeObjectID : .chunkLength
        case .largeObjectID:
            state = value == 0 ? .blockType : .chunkLength
        case .chunkLength:
            guard value >= 0 else { throw Failure.malformed("chunk length \(value)") }
            if value > 0 {
                state = .chunk(remaining: value)
            } else if inLargeObjects {
                state = .largeObjectID
            } else {
                state = .blockType
            }
        default:
            break
        }
    }

    /// Counts newline-terminated rows, stopping at a `\.` line should the data carry one. The
    /// line state lives in locals while a chunk is scanned (stored properties of a class cost an
    /// exclusivity check per access, and this runs once per row).
    private func countLines(_ bytes: UnsafeRawBufferPointer) {
        guard !copyEnded, let base = bytes.baseAddress else { return }
        var rows: Int64 = 0
        var lineBytes = self.lineBytes
        var prefix = linePrefix
        var start = 0
        while start < bytes.count {
            let found = memchr(base + start, 0x0a, bytes.count - start)
            let end = found.map { base.distance(to: UnsafeRawPointer($0)) } ?? bytes.count
            if prefix.count < 2 { prefix.take(bytes, from: start, to: end) }
            lineBytes += end - start
            guard found != nil else { break }
            if lineBytes == 2 && prefix.isEndOfCopyData {
                copyEnded = true
                break
            }
            rows += 1
            lineBytes = 0
            prefix = LinePrefix()
            start = end + 1
        }
        self.lineBytes = lineBytes
        linePrefix = prefix
        currentRows += rows
    }
}

/// The first two bytes of a line of COPY data, gathered across chunks.
private struct LinePrefix {
    private(set) var count = 0
    private var first: UInt8 = 0
    private var second: UInt8 = 0

    mutating func take(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) {
        var index = start
        while count < 2 && index < end {
            if count == 0 { first = bytes[index] } else { second = bytes[index] }
            count += 1
            index += 1
        }
    }

    /// `\.`: the end-of-data marker of COPY text.
    var isEndOfCopyData: Bool { count == 2 && first == UInt8(ascii: "\\") && second == UInt8(ascii: ".") }
}
