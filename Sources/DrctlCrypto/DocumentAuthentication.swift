/// How repository format version 2 authenticates a stored document (a manifest, a record, a
/// lock) over its exact stored bytes, never a re-serialisation (docs/FORMAT.md, "Version 2",
/// "Authenticating a document's exact bytes"): the document carries its MAC and signature as
/// hex strings in place; the authenticated bytes are the stored bytes with those values zeroed.
public struct AuthenticatedBytes: Sendable, Equatable {
    /// The stored bytes with the value of `"mac"` and of `"signature"` replaced by ASCII zeros.
    public let zeroed: [UInt8]
    /// The values found (hex text), nil when the document has no such field.
    public let mac: String?
    public let signature: String?
    /// Where each value found lies in the bytes.
    private let valueRanges: [String: Range<Int>]

    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// A field occurs more than once: which one is authenticated would be ambiguous.
        case repeated(String)
        /// A field's value is not a string of the length the format gives it.
        case malformed(String)

        public var description: String {
            switch self {
            case .repeated(let field): return "the document holds its '\(field)' field more than once"
            case .malformed(let field): return "the document's '\(field)' is not \(AuthenticatedBytes.lengths[field] ?? 0) hex characters"
            }
        }
    }

    /// Hex lengths: an HMAC-SHA256 and an Ed25519 signature.
    static let lengths = ["mac": 64, "signature": 128]

    public init(stored bytes: [UInt8]) throws {
        var zeroed = bytes
        var values: [String: String] = [:]
        var ranges: [String: Range<Int>] = [:]
        for (field, length) in Self.lengths.sorted(by: { $0.key < $1.key }) {
            let pattern = Array("\"\(field)\" : \"".utf8)
            let found = Self.occurrences(of: pattern, in: bytes)
            guard found.count <= 1 else { throw Failure.repeated(field) }
            guard let start = found.first.map({ $0 + pattern.count }) else { continue }
            let end = start + length
            guard end < bytes.count, bytes[end] == UInt8(ascii: "\""),
                  bytes[start..<end].allSatisfy({ Self.isLowerHex($0) }) else { throw Failure.malformed(field) }
            values[field] = String(decoding: bytes[start..<end], as: UTF8.self)
            ranges[field] = start..<end
            for index in start..<end { zeroed[index] = UInt8(ascii: "0") }
        }
        self.zeroed = zeroed
        valueRanges = ranges
        mac = values["mac"]
        signature = values["signature"]
    }

    /// The zeroed bytes with `values` (hex text of each field's length, by field name) written
    /// in place: what a writer stores once it has computed them over `zeroed`.
    public func storing(_ values: [String: String]) -> [UInt8] {
        var stored = zeroed
        for (field, value) in values {
            guard let range = valueRanges[field], value.utf8.count == range.count else {
                preconditionFailure("the document holds no \(field) placeholder of \(value.utf8.count) characters")
            }
            stored.replaceSubrange(range, with: Array(value.utf8))
        }
        return stored
    }

    /// The context every version 2 message starts with: what it is, and the repository,
    /// target and id the reader expects it to belong to.
    public static func context(purpose: String, repositoryID: String, target: String, id: String) -> [UInt8] {
        Array("drctl v2 \(purpose)\0\(repositoryID)\0\(target)\0\(id)\0".utf8)
    }

    /// The manifest MAC's key: derived from the backup's data key, so only a holder of the
    /// secret key (which unwraps it) can make or check the MAC.
    public static func manifestMACKey(_ dataKey: DataKey) -> SecretBytes {
        HKDF.derive32(ikm: dataKey.secret, salt: [], info: "drctl v2 manifest mac")
    }

    /// HMAC-SHA256 of the context and the zeroed bytes, as the manifest carries it.
    public func manifestMAC(key: SecretBytes, repositoryID: String, target: String, backupID: String) -> String {
        hex(hmacSHA256(key: key, data: signedMessage(kind: "manifest", repositoryID: repositoryID, target: target, id: backupID)))
    }

    /// The seed of the repository's signing key in symmetric mode: derived from the secret key
    /// by its own HKDF label (the 32 bytes themselves stay the X25519 private key).
    public static func signingSeed(of key: SecretKey) -> SecretBytes {
        HKDF.derive32(ikm: key.secret, salt: [], info: "drctl v2 signing key")
    }

    /// A signing key's id: `hex(SHA-256("drctl signer id v2" || public key)[0..<8])`.
    public static func signerID(publicKey: [UInt8]) -> String {
        hex(sha256(Array("drctl signer id v2".utf8) + publicKey).prefix(8))
    }

    /// What a writer signs: the context for `kind` (manifest, drill-record, failure-record,
    /// lock, prune-record) and the zeroed bytes.
    public func signedMessage(kind: String, repositoryID: String, target: String, id: String) -> [UInt8] {
        Self.context(purpose: kind, repositoryID: repositoryID, target: target, id: id) + zeroed
    }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }

    private static func occurrences(of pattern: [UInt8], in bytes: [UInt8]) -> [Int] {
        guard bytes.count >= pattern.count else { return [] }
        return (0...(bytes.count - pattern.count)).filter { start in
            bytes[start] == pattern[0] && bytes[start..<start + pattern.count].elementsEqual(pattern)
        }
    }
}
