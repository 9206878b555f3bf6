/// A writer's Ed25519 signing key (repository format version 2, docs/FORMAT.md, "Writer
/// signature"): what signs the manifests, records and locks a host writes, so that hosts
/// without the secret key can tell them from what someone planted.
public struct SigningKey: Sendable {
    /// The 32-byte Ed25519 seed, wiped when released.
    let seed: SecretBytes
    public let writerKey: WriterKey

    public init(seed: SecretBytes) throws {
        guard seed.count == Ed25519.seedSize else {
            throw CryptoError(.invalidKeyLength, "a signing key is \(Ed25519.seedSize) bytes, not \(seed.count)")
        }
        self.seed = seed
        writerKey = try WriterKey(rawBytes: Ed25519.publicKey(seed: seed))
    }

    /// Symmetric mode: the repository's own signing key, derived from the secret key by its
    /// own label (the secret key's bytes stay the X25519 private key).
    public init(derivedFrom secretKey: SecretKey) {
        try! self.init(seed: AuthenticatedBytes.signingSeed(of: secretKey))
    }

    public static func generate() -> SigningKey {
        try! SigningKey(seed: randomSecret())
    }

    /// Loads a signing key file (`drctl-signing-key-v1 <base64 of the seed>`), which only its
    /// owner may read: whoever reads it can sign as this host.
    public static func load(path: String) throws -> SigningKey {
        let (kind, raw, access) = try KeyFile.read(path: path)
        guard kind == .signing else { throw KeyFile.wrongKind(path: path, found: kind, expected: .signing) }
        try access.checkPrivate(path: path, kind: .signing)
        return try SigningKey(seed: raw)
    }

    /// Writes the seed to a new file with mode 0600; never overwrites an existing file.
    public func write(to path: String) throws {
        try seed.withUnsafeBytes { try KeyFile.write(path: path, kind: .signing, raw: $0) }
    }

    public var signerID: String { writerKey.signerID }

    /// The 64-byte signature of `message`, as lowercase hex.
    public func sign(_ message: [UInt8]) -> String {
        hex(Ed25519.sign(message, seed: seed))
    }
}

/// A writer's public key: what readers check signatures with. The policy lists the writers it
/// accepts (public-key mode); in symmetric mode it is the secret key's derived signing key's.
public struct WriterKey: Sendable, Equatable {
    public let rawBytes: [UInt8]
    /// `hex(SHA-256("drctl signer id v2" || public key)[0..<8])`: the `signer` documents name.
    public let signerID: String

    public init(rawBytes: [UInt8]) throws {
        guard rawBytes.count == Ed25519.publicKeySize else {
            throw CryptoError(.invalidKeyLength, "a writer key is \(Ed25519.publicKeySize) bytes, not \(rawBytes.count)")
        }
        self.rawBytes = rawBytes
        signerID = AuthenticatedBytes.signerID(publicKey: rawBytes)
    }

    /// Loads a writer key file (`drctl-writer-key-v1 <base64 of the public key>`): public, so
    /// its mode is not checked.
    public static func load(path: String) throws -> WriterKey {
        let (kind, raw, _) = try KeyFile.read(path: path)
        guard kind == .writer else { throw KeyFile.wrongKind(path: path, found: kind, expected: .writer) }
        return try WriterKey(rawBytes: raw.withUnsafeBytes { Array($0) })
    }

    /// Writes the key to a new file with mode 0600 (as every key file); never overwrites.
    public func write(to path: String) throws {
        try rawBytes.withUnsafeBytes { try KeyFile.write(path: path, kind: .writer, raw: $0) }
    }

    /// Whether `signature` (128 lowercase hex characters) is this writer's signature of `message`.
    public func hasSigned(_ message: [UInt8], signature: String) -> Bool {
        guard let bytes = hexDecoded(signature) else { return false }
        return Ed25519.isValid(bytes, of: message, publicKey: rawBytes)
    }
}

/// The bytes of lowercase or uppercase hex text; nil when it is not hex.
public func hexDecoded(_ text: String) -> [UInt8]? {
    let digits = Array(text.utf8)
    guard digits.count % 2 == 0 else { return nil }
    func value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
    var out: [UInt8] = []
    out.reserveCapacity(digits.count / 2)
    var index = 0
    while index < digits.count {
        guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
        out.append(high << 4 | low)
        index += 2
    }
    return out
}
