import DrctlCrypto
import Foundation

/// The signed document at the start of every WAL object (docs/FORMAT.md, "The WAL object"):
/// what the object holds (the file's name, size and SHA-256, whose cluster and timeline) and
/// how to open its body (the wrapped data key, the compression).
public struct WalObjectHeader: Codable, Sendable, Equatable, SignableDocument {
    public static let formatName = "drctl-wal-object"
    public static let currentVersion = 2

    public var format: String = WalObjectHeader.formatName
    public var version: Int = 2
    public var target: String
    /// Decimal, as the key writes it (a UInt64 does not fit a JSON number that readers keep exact).
    public var systemIdentifier: String
    public var file: String
    public var timeline: UInt32
    public var size: UInt64
    public var sha256: String
    public var storedSize: UInt64
    public var compression: CompressionInfo
    public var stream: String
    public var dataKey: WrappedDataKey
    public var pushedAt: Date
    public var tool: ToolInfo
    public var authentication: AuthenticationField?

    public init(target: String, systemIdentifier: UInt64, file: WalFileName, size: UInt64, sha256: String, storedSize: UInt64,
                compressionLevel: Int32, dataKey: WrappedDataKey, pushedAt: Date, tool: ToolInfo) {
        self.target = target
        self.systemIdentifier = String(systemIdentifier)
        self.file = file.description
        self.timeline = file.timeline
        self.size = size
        self.sha256 = sha256
        self.storedSize = storedSize
        self.compression = CompressionInfo(level: compressionLevel)
        self.stream = "drctl-sealed-stream-v1"
        self.dataKey = dataKey
        self.pushedAt = pushedAt
        self.tool = tool
    }

    enum CodingKeys: String, CodingKey {
        case format, version, target, file, timeline, size, sha256, compression, stream, tool, authentication
        case systemIdentifier = "system_identifier", storedSize = "stored_size", dataKey = "data_key", pushedAt = "pushed_at"
    }

    /// Whether it describes the same file contents as `other` (the idempotency rule).
    public func sameContents(as other: WalObjectHeader) -> Bool {
        size == other.size && sha256 == other.sha256
    }
}

/// The framing of a WAL object: magic, version, the header's length, the header, the body.
public enum WalObjectFraming {
    public static let magic = Array("DRCTLWAL".utf8)
    public static let version: UInt8 = 1
    /// Bytes before the header: magic, version, header length.
    public static let prefixSize = 13
    public static let maximumHeaderSize = 65536

    /// The bytes before the body: magic, version, the header's length and the header.
    public static func head(header: [UInt8]) -> [UInt8] {
        precondition((1...maximumHeaderSize).contains(header.count), "a WAL object header of \(header.count) bytes")
        let length = UInt32(header.count)
        return magic + [version, UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)] + header
    }

    /// The header's length from the first `prefixSize` bytes of an object.
    public static func headerLength(prefix: [UInt8]) throws -> Int {
        guard prefix.count == prefixSize, Array(prefix[0..<8]) == magic else {
            throw WalObjectError.malformed("it does not start with DRCTLWAL: not a WAL object")
        }
        guard prefix[8] == version else {
            throw WalObjectError.newerFormat("its framing version is \(prefix[8]); this drctl reads version \(version): upgrade drctl")
        }
        let length = prefix[9..<13].reduce(0) { $0 << 8 | Int($1) }
        guard (1...maximumHeaderSize).contains(length) else {
            throw WalObjectError.malformed("its header length \(length) is outside 1…\(maximumHeaderSize)")
        }
        return length
    }
}

/// Why a WAL object is not believed (docs/FORMAT.md, "WAL archive", "What readers refuse").
public enum WalObjectError: Error, CustomStringConvertible {
    case malformed(String)
    case newerFormat(String)
    case unauthenticated(SealFailure)
    /// The body failed to open, decompress or match the header's size and SHA-256.
    case damaged(String)

    public var description: String {
        switch self {
        case .malformed(let why), .newerFormat(let why), .damaged(let why): return why
        case .unauthenticated(let failure): return "\(failure)"
        }
    }
}
