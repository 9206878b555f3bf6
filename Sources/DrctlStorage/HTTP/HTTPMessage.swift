import DrctlPipeline

public struct HTTPRequest {
    public var method: String
    public var url: String
    /// Sent as given (the signer saw exactly these).
    public var headers: [(String, String)]
    public var body: HTTPRequestBody

    public init(method: String, url: String, headers: [(String, String)] = [], body: HTTPRequestBody = .empty) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// A request body of known size: bytes in memory, or a stream read as libcurl sends.
public final class HTTPRequestBody {
    public let size: UInt64
    private let reader: (UnsafeMutableRawBufferPointer) throws -> Int

    public static var empty: HTTPRequestBody { HTTPRequestBody(bytes: []) }

    public convenience init(bytes: [UInt8]) {
        var offset = 0
        self.init(size: UInt64(bytes.count)) { buffer in
            let count = min(buffer.count, bytes.count - offset)
            bytes[offset..<(offset + count)].withUnsafeBytes { buffer.copyMemory(from: $0) }
            offset += count
            return count
        }
    }

    /// `reader` fills the buffer and returns the count; it must deliver exactly `size` bytes.
    public init(size: UInt64, reader: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) {
        self.size = size
        self.reader = reader
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try reader(buffer)
    }
}

public struct HTTPResponse {
    public var status: Int
    /// Names lowercased, in the order received.
    public var headers: [(String, String)]

    public func header(_ name: String) -> String? {
        let name = name.lowercased()
        return headers.first { $0.0 == name }?.1
    }
}

/// Transport settings of one endpoint (one region).
public struct HTTPSettings: Sendable {
    /// Seconds to establish a connection.
    public var connectTimeout = 10
    /// Seconds without a single byte moving before a transfer counts as stalled.
    public var stallTimeout = 60
    /// A PEM bundle of CAs to trust instead of the system's.
    public var caFile: String?
    /// Skips TLS verification: only for tests against self-signed endpoints.
    public var insecureSkipTLSVerify = false

    public init() {}
}

public enum HTTPError: Error, CustomStringConvertible {
    /// No HTTP response: refused, unreachable, DNS, TLS, reset, timeout, stall.
    case transport(url: String, code: Int, message: String)
    case responseTooLarge(url: String, limit: Int)
    /// The client's `HTTPCancellation` was cancelled (a region dropped from a backup).
    case cancelled(url: String)

    public var description: String {
        switch self {
        case .transport(let url, _, let message): return "\(HTTPError.redacted(url)): \(message)"
        case .responseTooLarge(let url, let limit): return "\(HTTPError.redacted(url)): response larger than \(limit) bytes"
        case .cancelled(let url): return "\(HTTPError.redacted(url)): cancelled"
        }
    }

    /// The URL without its query (which may hold presigned credentials).
    static func redacted(_ url: String) -> String {
        url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
    }
}

/// An answer outside 2xx where only success would do (a webhook's), for `HTTPRetry` to retry.
public struct HTTPStatusError: Error, CustomStringConvertible {
    public let status: Int
    public init(status: Int) { self.status = status }
    public var description: String { "HTTP \(status)" }
}
