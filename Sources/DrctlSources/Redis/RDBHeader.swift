/// What the head of an RDB says about itself: the format version and the auxiliary fields
/// Redis writes before the first database (`redis-ver`, `ctime`, `used-mem`, and for a
/// snapshot made for replication `repl-id` and `repl-offset`: the exact replication point the
/// snapshot holds, which INFO on another connection can only bracket).
public struct RedisSnapshotInfo: Sendable, Equatable {
    /// The RDB format version (`REDIS0010` → 10).
    public var rdbVersion: Int
    /// Auxiliary fields in file order, integers as decimal text.
    public var auxiliary: [String: String]

    public var redisVersion: String? { auxiliary["redis-ver"] }
    public var replicationID: String? { auxiliary["repl-id"] }
    public var replicationOffset: Int64? { auxiliary["repl-offset"].flatMap { Int64($0) } }
    /// `ctime`: when the snapshot was made, seconds since the epoch.
    public var createdAt: Int64? { auxiliary["ctime"].flatMap { Int64($0) } }
}

/// Parses the head of an RDB as it streams by (only the first KiB or so is kept).
struct RDBHeaderParser {
    enum Outcome: Equatable {
        case needMore
        case done(RedisSnapshotInfo)
        /// Not an RDB, or something this parser does not follow; the stream is passed on anyway
        /// unless the signature is wrong.
        case notRDB
        case gaveUp
    }

    static let limit = 4096
    private(set) var bytes: [UInt8] = []
    private(set) var outcome = Outcome.needMore

    mutating func feed(_ chunk: UnsafeRawBufferPointer) {
        guard outcome == .needMore else { return }
        bytes += chunk.prefix(Self.limit - bytes.count)
        outcome = Self.parse(bytes)
        if outcome == .needMore && bytes.count >= Self.limit { outcome = .gaveUp }
    }

    struct NeedMore: Error {}
    struct Unsupported: Error {}

    static func parse(_ bytes: [UInt8]) -> Outcome {
        let magic = Array("REDIS".utf8)
        if bytes.count < 9 {
            return bytes.elementsEqual(magic.prefix(bytes.count)) ? .needMore : .notRDB
        }
        guard bytes.prefix(5).elementsEqual(magic),
              let version = Int(String(decoding: bytes[5..<9], as: UTF8.self)) else { return .notRDB }
        var info = RedisSnapshotInfo(rdbVersion: version, auxiliary: [:])
        var index = 9
        func byte() throws -> UInt8 {
            guard index < bytes.count else { throw NeedMore() }
            defer { index += 1 }
            return bytes[index]
        }
        func take(_ count: Int) throws -> ArraySlice<UInt8> {
            guard count >= 0, count <= Self.limit else { throw Unsupported() }
            guard index + count <= bytes.count else { throw NeedMore() }
            defer { index += count }
            return bytes[index..<index + count]
        }
        func littleEndian(_ count: Int) throws -> Int64 {
            var value: UInt64 = 0
            for (shift, b) in try take(count).enumerated() { value |= UInt64(b) << (8 * shift) }
            // Sign-extend the 8-, 16- or 32-bit integer.
            let bits = 8 * count
            return Int64(bitPattern: value << (64 - bits)) >> (64 - bits)
        }
        func length(_ first: UInt8) throws -> Int {
            switch first >> 6 {
            case 0: return Int(first & 0x3F)
            case 1: return Int(first & 0x3F) << 8 | Int(try byte())
            default:
                let width = first == 0x80 ? 4 : first == 0x81 ? 8 : 0
                guard width > 0 else { throw Unsupported() }
                let value = try take(width).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                guard value <= UInt64(Self.limit) else { throw Unsupported() }
                return Int(value)
            }
        }
        func string() throws -> String {
            let first = try byte()
            if first >> 6 == 3 {
                switch first & 0x3F {
                case 0: return String(try littleEndian(1))
                case 1: return String(try littleEndian(2))
                case 2: return String(try littleEndian(4))
                default: throw Unsupported()  // LZF-compressed: not worth following here
                }
            }
            return String(decoding: try take(length(first)), as: UTF8.self)
        }
        do {
            while true {
                let opcode = try byte()
                guard opcode == 0xFA else { return .done(info) }  // the first non-AUX opcode ends the head
                let key = try string()
                info.auxiliary[key] = try string()
            }
        } catch is NeedMore {
            return .needMore
        } catch {
            return info.auxiliary.isEmpty ? .gaveUp : .done(info)
        }
    }
}
