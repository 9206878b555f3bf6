import COpenSSL
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The repository's secret key: 32 random bytes, used both as the symmetric master key and
/// as an X25519 private key. Whoever holds it can read every backup made for it.
public struct SecretKey: Sendable {
    /// Wiped when the last copy of the key is released.
    let secret: SecretBytes
    public let publicKey: PublicKey

    public static func generate() -> SecretKey {
        try! SecretKey(secret: randomSecret())
    }

    /// A copy of `rawBytes`; wiping the caller's array is the caller's task.
    public init(rawBytes: [UInt8]) throws {
        try self.init(secret: SecretBytes(copying: rawBytes))
    }

    init(secret: SecretBytes) throws {
        guard secret.count == 32 else {
            throw CryptoError(.invalidKeyLength, "a secret key is 32 bytes, not \(secret.count)")
        }
        self.secret = secret
        publicKey = PublicKey(unchecked: X25519.publicKey(ofPrivate: secret))
    }

    /// Loads a secret key file (`drctl-secret-key-v1 <base64>`), which only its owner may read.
    public static func load(path: String) throws -> SecretKey {
        let (kind, raw, access) = try KeyFile.read(path: path)
        switch kind {
        case .secret:
            try access.checkPrivate(path: path, kind: .secret)
            do { return try SecretKey(secret: raw) } catch let error as CryptoError {
                throw CryptoError(error.code, "key file \(path): \(error.message)")
            }
        case .public:
            throw CryptoError(.publicKeyGivenForSecret,
                              "key file \(path) is a public key; reading backups needs the secret key file (drctl-secret-key-v1)")
        case .signing, .writer:
            throw KeyFile.wrongKind(path: path, found: kind, expected: .secret)
        }
    }

    /// Writes the key to a new file with mode 0600; never overwrites an existing file.
    public func write(to path: String) throws {
        try secret.withUnsafeBytes { try KeyFile.write(path: path, kind: .secret, raw: $0) }
    }

    public var keyID: String { publicKey.keyID }
}

/// The X25519 public key of a repository key. A host holding only this can create backups
/// (wrap data keys to it) but cannot read any.
public struct PublicKey: Sendable, Equatable {
    public let rawBytes: [UInt8]
    public let keyID: String

    init(unchecked raw: [UInt8]) {
        rawBytes = raw
        var input = Array("drctl key id v1".utf8)
        input += raw
        keyID = hex(sha256(input).prefix(8))
    }

    public init(rawBytes: [UInt8]) throws {
        guard rawBytes.count == 32 else {
            throw CryptoError(.invalidKeyLength, "a public key is 32 bytes, not \(rawBytes.count)")
        }
        // A low-order point would give every wrap the all-zero shared secret.
        guard X25519.sharedSecret(privateKey: SecretBytes(copying: [UInt8](repeating: 0x5a, count: 32)), peer: rawBytes) != nil else {
            throw CryptoError(.invalidPublicKey,
                              "the public key is not a usable X25519 key (a low-order point); generate a new key pair")
        }
        self.init(unchecked: rawBytes)
    }

    /// Loads a public key file (`drctl-public-key-v1 <base64>`).
    public static func load(path: String) throws -> PublicKey {
        let (kind, raw, _) = try KeyFile.read(path: path)
        switch kind {
        case .public:
            do { return try PublicKey(rawBytes: raw.withUnsafeBytes { Array($0) }) } catch let error as CryptoError {
                throw CryptoError(error.code, "key file \(path): \(error.message)")
            }
        case .secret:
            throw CryptoError(.secretKeyGivenForPublic,
                              "key file \(path) is a secret key; give the public key (drctl-public-key-v1) here, "
                                  + "so that this host cannot read backups")
        case .signing, .writer:
            throw KeyFile.wrongKind(path: path, found: kind, expected: .public)
        }
    }

    /// Writes the key to a new file with mode 0600; never overwrites an existing file.
    public func write(to path: String) throws {
        try rawBytes.withUnsafeBytes { try KeyFile.write(path: path, kind: .public, raw: $0) }
    }
}

/// A backup's random data key: every object of the backup is sealed with it.
public struct DataKey: Sendable, Equatable {
    /// Wiped when the last copy of the key (the job's, the sealers' or openers') is released.
    let secret: SecretBytes

    public static func random() -> DataKey {
        DataKey(unchecked: randomSecret())
    }

    /// A copy of `rawBytes`; wiping the caller's array is the caller's task.
    public init(rawBytes: [UInt8]) throws {
        guard rawBytes.count == 32 else {
            throw CryptoError(.invalidKeyLength, "a data key is 32 bytes, not \(rawBytes.count)")
        }
        secret = SecretBytes(copying: rawBytes)
    }

    init(unchecked secret: SecretBytes) { self.secret = secret }
}

/// 32 bytes from OpenSSL's CSPRNG, straight into key storage.
func randomSecret() -> SecretBytes {
    SecretBytes(count: 32) { out in
        guard RAND_bytes(out.baseAddress?.assumingMemoryBound(to: UInt8.self), 32) == 1 else { opensslFailure("RAND_bytes") }
    }
}

/// Who may read a key file, from the descriptor it was read through.
struct KeyFileAccess {
    let mode: mode_t
    let owner: uid_t

    /// A secret or signing key file must be its owner's alone: no one else may read or write it.
    /// A file owned by root may also be read by its group (0640 or less), the rule PostgreSQL
    /// applies to its TLS key: an administrator who chose that group chose who reads it, and
    /// Kubernetes mounts a Secret so (root:fsGroup, 0440) when the pod sets `fsGroup`.
    func checkPrivate(path: String, kind: KeyFile.Kind) throws {
        let permissions = mode & 0o7777
        let allowed: mode_t = owner == 0 ? 0o7740 : 0o7700
        guard permissions & ~allowed == 0 else {
            let risk = kind == .signing ? "can sign what readers accept as this host's" : "can read every backup"
            throw CryptoError(.keyFileTooOpen,
                              "\(kind.noun) file \(path) has mode 0\(String(permissions, radix: 8)): others than its owner may "
                                  + "read or replace it, and whoever reads it \(risk); make it private with "
                                  + "`chmod 600 \(path)`")
        }
    }
}

/// The text key file format (docs/FORMAT.md, "Key files").
enum KeyFile {
    enum Kind: CaseIterable {
        case secret, `public`
        /// A writer's Ed25519 seed (format version 2): signs what one host writes.
        case signing
        /// A writer's Ed25519 public key: what readers check that host's signatures with.
        case writer

        var label: String {
            switch self {
            case .secret: return "drctl-secret-key-v1"
            case .public: return "drctl-public-key-v1"
            case .signing: return "drctl-signing-key-v1"
            case .writer: return "drctl-writer-key-v1"
            }
        }

        var noun: String {
            switch self {
            case .secret: return "secret key"
            case .public: return "public key"
            case .signing: return "signing key"
            case .writer: return "writer key"
            }
        }

        var comment: String {
            switch self {
            case .secret:
                return "# drctl secret key: it can read every backup made for it. Keep it private, and keep a copy offline."
            case .public:
                return "# drctl public key: it can only create backups, not read them."
            case .signing:
                return "# drctl signing key: it signs what this host writes to the repository. Keep it private, on this host only."
            case .writer:
                return "# drctl writer key: list it in encryption.writers so that readers accept what its signing key signed."
            }
        }

        /// What a command that expects this kind needs, for the message naming a file of another kind.
        var need: String {
            switch self {
            case .secret: return "reading backups needs the secret key file"
            case .public: return "give the public key file here"
            case .signing: return "signing needs this host's own signing key file, made by `drctl keygen --signing`"
            case .writer: return "readers check signatures with writer key files, made by `drctl keygen --signing --public-out`"
            }
        }
    }

    /// A key file of another kind than the caller expects, named with what is expected.
    static func wrongKind(path: String, found: Kind, expected: Kind) -> CryptoError {
        let keep = found == .signing ? " (a signing key stays on its own host)" : ""
        return CryptoError(.wrongKeyKind, "key file \(path) is a \(found.noun)\(keep); \(expected.need) (\(expected.label))")
    }

    static let maximumSize = 64 * 1024
    static let labels = Kind.allCases.map(\.label).joined(separator: ", ")

    /// The key, and who may read the file. Every buffer that held the file's text is wiped.
    static func read(path: String) throws -> (Kind, SecretBytes, KeyFileAccess) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let err = errno
            if err == ENOENT {
                throw CryptoError(.keyFileMissing,
                                  "key file \(path) does not exist: check the path, or create a key pair with `drctl keygen`")
            }
            throw CryptoError(.keyFileUnreadable, "key file \(path) cannot be opened: \(String(cString: strerror(err)))")
        }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            throw CryptoError(.keyFileUnreadable, "key file \(path) cannot be examined: \(String(cString: strerror(errno)))")
        }
        let access = KeyFileAccess(mode: status.st_mode, owner: status.st_uid)
        // Read into one buffer that never grows (growing would leave copies behind unwiped).
        var data = [UInt8](repeating: 0, count: maximumSize + 1)
        defer { wipe(&data) }
        var count = 0
        while count < data.count {
            let n = data.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0 {
                let err = errno
                if err == EINTR { continue }
                throw CryptoError(.keyFileUnreadable, "key file \(path) cannot be read: \(String(cString: strerror(err)))")
            }
            if n == 0 { break }
            count += n
        }
        if count > maximumSize {
            throw CryptoError(.malformedKeyFile, "\(path) is not a drctl key file: it is larger than \(maximumSize) bytes")
        }
        let (kind, key) = try data.withUnsafeBytes { try parse(UnsafeRawBufferPointer(rebasing: $0[0..<count]), path: path) }
        return (kind, key, access)
    }

    /// Works on the bytes themselves: a String of the key line would be a copy nothing can wipe.
    static func parse(_ data: UnsafeRawBufferPointer, path: String) throws -> (Kind, SecretBytes) {
        guard isUTF8(data) else {
            throw CryptoError(.malformedKeyFile, "\(path) is not a drctl key file: it is not text")
        }
        func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D }
        var keyLines: [Range<Int>] = []
        var lineStart = 0
        for end in 0...data.count where end == data.count || data[end] == 0x0A {
            var range = lineStart..<end
            lineStart = end + 1
            while let first = range.first, isBlank(data[first]) { range = range.dropFirst() }
            while let last = range.last, isBlank(data[last]) { range = range.dropLast() }
            if range.isEmpty || data[range.lowerBound] == UInt8(ascii: "#") { continue }
            keyLines.append(range)
        }
        guard keyLines.count == 1 else {
            let what = keyLines.isEmpty ? "it holds no key line" : "it holds \(keyLines.count) non-comment lines, expected one"
            throw CryptoError(.malformedKeyFile, "\(path) is not a drctl key file: \(what) (\"<kind> <base64>\", the kind one of \(labels))")
        }
        let line = UnsafeRawBufferPointer(rebasing: data[keyLines[0]])
        let label = line.prefix { !isBlank($0) }
        guard let kind = Kind.allCases.first(where: { $0.label == String(decoding: label, as: UTF8.self) }) else {
            throw CryptoError(.malformedKeyFile, "\(path) is not a drctl key file: its key line does not start with one of \(labels)")
        }
        let rest = line.dropFirst(label.count)
        let encoded = UnsafeRawBufferPointer(rebasing: rest.drop { isBlank($0) })
        guard !encoded.isEmpty, !encoded.contains(where: isBlank), let key = decodeBase64Key(encoded) else {
            throw CryptoError(.malformedKeyFile, "\(path) is not a valid drctl key file: the key after \(kind.label) is not base64")
        }
        guard key.count == 32 else {
            throw CryptoError(.invalidKeyLength, "key file \(path) holds a key of \(key.count) bytes; drctl keys are 32 bytes")
        }
        return (kind, key)
    }

    /// Base64 straight into key storage (Foundation's decoder returns a Data nobody wipes);
    /// nil if `text` is not canonical padded base64. Empty keys are refused by the caller.
    static func decodeBase64Key(_ text: UnsafeRawBufferPointer) -> SecretBytes? {
        guard text.count % 4 == 0, text.count > 0 else { return nil }
        let padding = text.reversed().prefix { $0 == UInt8(ascii: "=") }.count
        guard padding <= 2 else { return nil }
        func value(_ c: UInt8) -> UInt32? {
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): return UInt32(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): return UInt32(c - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(c - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "+"): return 62
            case UInt8(ascii: "/"): return 63
            default: return nil
            }
        }
        let count = text.count / 4 * 3 - padding
        guard count > 0 else { return nil }
        var valid = true
        let key = SecretBytes(count: count) { out in
            var written = 0
            for group in stride(from: 0, to: text.count, by: 4) {
                var bits: UInt32 = 0
                for i in 0..<4 {
                    let c = text[group + i]
                    if c == UInt8(ascii: "=") && group + i >= text.count - padding {
                        bits <<= 6
                    } else if let v = value(c) {
                        bits = bits << 6 | v
                    } else {
                        valid = false
                        return
                    }
                }
                for shift in [16, 8, 0] where written < count {
                    out[written] = UInt8(truncatingIfNeeded: bits >> UInt32(shift))
                    written += 1
                }
                bits = 0
            }
        }
        return valid ? key : nil
    }

    /// The file's text; the caller wipes it.
    static func render(kind: Kind, raw: UnsafeRawBufferPointer) -> [UInt8] {
        var copy = Data(raw)
        var encoded = copy.base64EncodedData()
        defer {
            copy.resetBytes(in: 0..<copy.count)
            encoded.resetBytes(in: 0..<encoded.count)
        }
        return Array("\(kind.comment)\n\(kind.label) ".utf8) + encoded + [0x0A]
    }

    /// Creates the file exclusively with mode 0600, writes, fsyncs the file and its directory.
    static func write(path: String, kind: Kind, raw: UnsafeRawBufferPointer) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 {
            let err = errno
            if err == EEXIST {
                throw CryptoError(.keyFileExists,
                                  "\(path) already exists; drctl never overwrites a key file: move it away or choose another path")
            }
            throw CryptoError(.keyFileWriteFailed, "cannot create key file \(path): \(String(cString: strerror(err)))")
        }
        func fail(_ what: String, _ err: Int32) -> CryptoError {
            close(fd)
            unlink(path)
            return CryptoError(.keyFileWriteFailed, "cannot write key file \(path): \(what): \(String(cString: strerror(err)))")
        }
        // The umask may have cleared bits; 0600 is what the file must have, exactly.
        if fchmod(fd, 0o600) != 0 { throw fail("chmod", errno) }
        var bytes = render(kind: kind, raw: raw)
        defer { wipe(&bytes) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw fail("write", errno)
            }
            offset += n
        }
        if fsync(fd) != 0 { throw fail("fsync", errno) }
        if close(fd) != 0 {
            let err = errno
            unlink(path)
            throw CryptoError(.keyFileWriteFailed, "cannot write key file \(path): close: \(String(cString: strerror(err)))")
        }
        // Make the new directory entry durable too (best effort: some file systems refuse).
        let directory = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }
}

/// Whether `data` is UTF-8 text, without making a String of it.
private func isUTF8(_ data: UnsafeRawBufferPointer) -> Bool {
    var parser = Unicode.UTF8.ForwardParser()
    var input = data.makeIterator()
    while true {
        switch parser.parseScalar(from: &input) {
        case .valid: continue
        case .emptyInput: return true
        case .error: return false
        }
    }
}

/// Overwrites a buffer that held key material, before it is freed.
private func wipe(_ bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) }
}

// The POSIX calls, under names that KeyFile's own read/write do not shadow.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}

private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(fd, buffer, count)
}
