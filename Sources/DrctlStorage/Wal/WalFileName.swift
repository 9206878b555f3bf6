/// The name of a file in PostgreSQL's WAL archive (docs/FORMAT.md, "WAL archive"): a segment
/// (`000000010000000000000003`), a partial segment (`…03.partial`), a backup history file
/// (`…02.00000028.backup`) or a timeline history file (`00000002.history`). Only the names the
/// server writes parse: upper-case hex, exact lengths, so that a name is one key and one file.
public struct WalFileName: Sendable, Hashable, Comparable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case segment
        case partial
        /// A backup history file; `offset` is the backup's start LSN within the segment.
        case backupHistory(offset: UInt32)
        case timelineHistory
    }

    public let kind: Kind
    /// The file's timeline (a `.history` file: the timeline it begins).
    public let timeline: UInt32
    /// The segment's first 16 hex digits after the timeline combined: `log` (high) and `seg`
    /// (low) as the name spells them; 0 for a `.history` file.
    public let log: UInt32
    public let seg: UInt32

    /// Parses a file name as PostgreSQL writes it; nil for anything else (a path, lower case,
    /// a temporary file).
    public init?(_ name: String) {
        let bytes = Array(name.utf8)
        func hex(_ range: Range<Int>) -> UInt32? {
            guard range.upperBound <= bytes.count else { return nil }
            var value: UInt32 = 0
            for byte in bytes[range] {
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): value = value << 4 | UInt32(byte - UInt8(ascii: "0"))
                case UInt8(ascii: "A")...UInt8(ascii: "F"): value = value << 4 | UInt32(byte - UInt8(ascii: "A") + 10)
                default: return nil
                }
            }
            return value
        }
        if bytes.count == 16, name.hasSuffix(".history"), let timeline = hex(0..<8), timeline != 0 {
            self.init(kind: .timelineHistory, timeline: timeline, log: 0, seg: 0)
            return
        }
        guard bytes.count >= 24, let timeline = hex(0..<8), let log = hex(8..<16), let seg = hex(16..<24) else { return nil }
        let rest = String(decoding: bytes[24...], as: UTF8.self)
        switch rest {
        case "": self.init(kind: .segment, timeline: timeline, log: log, seg: seg)
        case ".partial": self.init(kind: .partial, timeline: timeline, log: log, seg: seg)
        default:
            guard bytes.count == 40, rest.hasPrefix("."), rest.hasSuffix(".backup"), let offset = hex(25..<33) else { return nil }
            self.init(kind: .backupHistory(offset: offset), timeline: timeline, log: log, seg: seg)
        }
        guard timeline != 0 else { return nil }
    }

    private init(kind: Kind, timeline: UInt32, log: UInt32, seg: UInt32) {
        self.kind = kind
        self.timeline = timeline
        self.log = log
        self.seg = seg
    }

    /// The segment of `timeline` that holds `lsn` (PostgreSQL's `XLByteToSeg` and `XLogFileName`).
    /// `segmentSize` is a power of two from 1 MiB to 1 GiB, as `initdb --wal-segsize` allows.
    public static func segment(containing lsn: LSN, timeline: UInt32, segmentSize: Int) -> WalFileName {
        precondition(Self.isValidSegmentSize(segmentSize), "WAL segment size \(segmentSize) is not a power of two from 1 MiB to 1 GiB")
        return segment(number: lsn.value / UInt64(segmentSize), timeline: timeline, segmentSize: segmentSize)
    }

    /// The segment named by its number (`XLogSegNo`) on `timeline`.
    public static func segment(number: UInt64, timeline: UInt32, segmentSize: Int) -> WalFileName {
        let perLog = UInt64(0x1_0000_0000) / UInt64(segmentSize)
        return WalFileName(kind: .segment, timeline: timeline, log: UInt32(number / perLog), seg: UInt32(number % perLog))
    }

    /// The timeline history file of `timeline`.
    public static func history(timeline: UInt32) -> WalFileName {
        WalFileName(kind: .timelineHistory, timeline: timeline, log: 0, seg: 0)
    }

    public static func isValidSegmentSize(_ size: Int) -> Bool {
        size >= 1 << 20 && size <= 1 << 30 && size & (size - 1) == 0
    }

    /// The segment's number (`XLogSegNo`) for `segmentSize`; nil for a `.history` file.
    public func segmentNumber(segmentSize: Int) -> UInt64? {
        guard kind != .timelineHistory else { return nil }
        return UInt64(log) * (UInt64(0x1_0000_0000) / UInt64(segmentSize)) + UInt64(seg)
    }

    /// The first LSN of the segment (of the segment a `.partial` or `.backup` file belongs to).
    public func startLSN(segmentSize: Int) -> LSN? {
        segmentNumber(segmentSize: segmentSize).map { LSN($0 * UInt64(segmentSize)) }
    }

    /// The next segment on the same timeline (a `.partial` or `.backup` file: the segment after
    /// its own); nil for a `.history` file.
    public func next(segmentSize: Int) -> WalFileName? {
        guard let number = segmentNumber(segmentSize: segmentSize) else { return nil }
        return .segment(number: number + 1, timeline: timeline, segmentSize: segmentSize)
    }

    /// The segment this file belongs to (itself for a segment).
    public var segmentName: WalFileName? {
        kind == .timelineHistory ? nil : WalFileName(kind: .segment, timeline: timeline, log: log, seg: seg)
    }

    /// Whether the file starts with a WAL page header (segments and partial segments).
    public var hasPageHeader: Bool { kind == .segment || kind == .partial }

    public var isHistory: Bool { kind == .timelineHistory }

    private static func hex8(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }

    public var description: String {
        let base = Self.hex8(timeline) + Self.hex8(log) + Self.hex8(seg)
        switch kind {
        case .segment: return base
        case .partial: return base + ".partial"
        case .backupHistory(let offset): return base + "." + Self.hex8(offset) + ".backup"
        case .timelineHistory: return Self.hex8(timeline) + ".history"
        }
    }

    /// The folder of the archive that holds it: `history` for `.history` files, else the
    /// name's first 16 characters (docs/FORMAT.md, "WAL archive").
    public var folder: String {
        isHistory ? "history" : String(description.prefix(16))
    }

    /// The folder of the segments of `timeline` whose name's middle part is `log`.
    public static func folder(timeline: UInt32, log: UInt32) -> String { hex8(timeline) + hex8(log) }

    /// By name, as the archive lists them.
    public static func < (lhs: WalFileName, rhs: WalFileName) -> Bool { lhs.description < rhs.description }
}
