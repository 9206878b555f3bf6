import DrctlCrypto
import Synchronization

/// SHA-256 and size of the bytes passing through, unchanged. With an expectation, the
/// stream fails at its end if either differs (a stored object that is not what the manifest
/// recorded).
public final class DigestFilter: StreamFilter {
    public let name = "sha256"
    private let digest = SHA256Digest()
    private let expected: Expectation?
    private var size: UInt64 = 0
    private let result = Mutex<(sha256: String, size: UInt64)?>(nil)

    public struct Expectation: Sendable {
        public var sha256: String
        public var size: UInt64
        /// Names the object in the error ("data/app/…/stdout in region 'local'").
        public var object: String

        public init(sha256: String, size: UInt64, object: String) {
            self.sha256 = sha256
            self.size = size
            self.object = object
        }

        /// The size alone (the bytes themselves authenticated by other means).
        public func check(size actualSize: UInt64) throws {
            if actualSize != size {
                throw IntegrityError.sizeMismatch(object: object, expected: size, actual: actualSize)
            }
        }

        public func check(sha256 actual: String, size actualSize: UInt64) throws {
            try check(size: actualSize)
            if actual != sha256 {
                throw IntegrityError.digestMismatch(object: object, expected: sha256, actual: actual)
            }
        }
    }

    public init(expecting expected: Expectation? = nil) {
        self.expected = expected
    }

    public func process(_ input: [UInt8], emit: ([UInt8]) throws -> Void) throws {
        input.withUnsafeBytes { digest.update($0) }
        size += UInt64(input.count)
        try emit(input)
    }

    public func finish(emit: ([UInt8]) throws -> Void) throws {
        let hex = digest.finalizeHex()
        result.withLock { $0 = (hex, size) }
        try expected?.check(sha256: hex, size: size)
    }

    /// The SHA-256 (lowercase hex) and size, once the stream ended.
    public var sha256: String? { result.withLock { $0?.sha256 } }
    public var byteCount: UInt64 { result.withLock { $0?.size } ?? 0 }
}

/// A stored object whose bytes are not those its manifest recorded.
public enum IntegrityError: Error, CustomStringConvertible {
    case sizeMismatch(object: String, expected: UInt64, actual: UInt64)
    case digestMismatch(object: String, expected: String, actual: String)

    public var description: String {
        switch self {
        case .sizeMismatch(let object, let expected, let actual):
            let how = actual < expected ? "is truncated" : "has bytes appended"
            return "\(object) is \(actual) bytes but its manifest recorded \(expected): the stored object \(how)"
        case .digestMismatch(let object, let expected, let actual):
            return "\(object) has SHA-256 \(actual) but its manifest recorded \(expected): the stored object was altered"
        }
    }
}
