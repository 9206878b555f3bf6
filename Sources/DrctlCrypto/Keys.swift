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
    let bytes: [UInt8]
    public let publicKey: PublicKey

    public static func generate() -> SecretKey {
        try! SecretKey(rawBytes: secureRandomBytes(32))
    }

    public init(rawBytes: [UInt8]) throws {
        guard rawBytes.count == 32 else {
            throw CryptoError(.invalidKeyLength, "a secret key is 32 bytes, not \(rawBytes.count)")
        }
        bytes = rawBytes
        publicKey = PublicKey(unchecked: X25519.publicKey(ofPrivate: rawBytes))
    }

    /// Loads a secret key file (`drctl-secret-key-v1 <base64>`).
    public static func load(path: String) throws -> SecretKey {
        let (kind, raw) = try KeyFile.read(path: path)
        switch kind {
        case .secret:
            do { return try SecretKey(rawBytes: raw) } catch let error as CryptoError {
                throw CryptoError(error.code, "key file \(path): \(error.message)")
            }
        case .public:
            throw CryptoError(.publicKeyGivenForSecret,
                              "key file \(path) is a public key; reading backups needs the secret key file (drctl-secret-key-v1)")
        }
    }

    /// Writes the key to a new file with mode 0600; never overwrites an existing file.
    public func write(to path: String) throws {
        try KeyFile.write(path: path, kind: .secret, raw: bytes)
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
        guard X25519.sharedSecret(privateKey: [UInt8](repeating: 0x5a, count: 32), peer: rawBytes) != nil else {
            throw CryptoError(.invalidPublicKey,
                              "the public key is not a usable X25519 key (a low-order point); generate a new key pair")
        }
        self.init(unchecked: rawBytes)
    }

    /// Loads a public key file (`drctl-public-key-v1 <base64>`).
    public static func load(path: String) throws -> PublicKey {
        let (kind, raw) = try KeyFile.read(path: path)
        switch kind {
        case .public:
            do { return try PublicKey(rawBytes: raw) } catch let error as CryptoError {
                throw CryptoError(error.code, "key file \(path): \(error.message)")
            }
        case .secret:
            throw CryptoError(.secretKeyGivenForPublic,
                              "key file \(path) is a secret key; give the public key (drctl-public-key-v1) here, "
                                  + "so that this host cannot read backups")
        }
    }

    /// Writes the key to a new file with mode 0600; never overwrites an existing file.
    public func write(to path: String) throws {
        try KeyFile.write(path: path, kind: .public, raw: rawBytes)
    }
}

/// A backup's random data key: every object of the backup is sealed with it.
public struct DataKey: Sendable, Equatable {
    public let rawBytes: [UInt8]

    public static func random() -> DataKey {
        DataKey(unchecked: secureRandomBytes(32))
    }

    public init(rawBytes: [UInt8]) throws {
        guard rawBytes.count == 32 else {
            throw CryptoError(.invalidKeyLength, "a data key is 32 bytes, not \(rawBytes.count)")
        }
        self.rawBytes = rawBytes
    }

    init(unchecked raw: [UInt8]) { rawBytes = raw }
}

/// The text key file format (docs/FORMAT.md, "Key files").
enum KeyFile {
    enum Kind {
        case secret, `public`

        var label: String {
            switch self {
            case .secret: return "drctl-secret-key-v1"
            case .public: return "drctl-public-key-v1"
            }
        }

        var comment: String {
            switch self {
            case .secret:
                return "# drctl secret key: it can read every backup made for it. Keep it private, and keep a copy offline."
            case .public:
                return "# drctl public key: it can only create backups, not read them."
            }
        }
    }

    static let maximumSize = 64 * 1024

    static func read(path: String) throws -> (Kind, [UInt8]) {
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
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                let err = errno
                if err == EINTR { continue }
                throw CryptoError(.keyFileUnreadable, "key file \(path) cannot be read: \(String(cString: strerror(err)))")
            }
            if n == 0 { break }
            data += buffer[0..<n]
            if data.count > maximumSize {
                throw CryptoError(.malformedKeyFile, "\(path) is not a drctl key file: it is larger than \(maximumSize) bytes")
            }
        }
        return try parse(data, path: path)
    }

    static func parse(_ data: [UInt8], path: String) throws -> (Kind, [UInt8]) {
        guard let text = String(validating: data, as: UTF8.self) else {
            throw CryptoError(.malformedKeyFile, "\(path) is not a drctl key file: it is not text")
        }
        var keyLines: [Substring] = []
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces + "\r")
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            keyLines.append(Substring(trimmed))
        }
        guard keyLines.count == 1 else {
            let what = keyLines.isEmpty ? "it holds no key line" : "it holds \(keyLines.count) non-comment lines, expected one"
            throw CryptoError(.malformedKeyFile,
                              "\(path) is not a drctl key file: \(what) (\"drctl-secret-key-v1 <base64>\" or \"drctl-public-key-v1 <base64>\")")
        }
        let fields = keyLines[0].split(separator: " ", omittingEmptySubsequences: true)
        let kind: Kind
        switch fields.first {
        case "drctl-secret-key-v1": kind = .secret
        case "drctl-public-key-v1": kind = .public
        default:
            throw CryptoError(.malformedKeyFile,
                              "\(path) is not a drctl key file: its key line does not start with drctl-secret-key-v1 or drctl-public-key-v1")
        }
        guard fields.count == 2, let decoded = Data(base64Encoded: String(fields[1])) else {
            throw CryptoError(.malformedKeyFile, "\(path) is not a valid drctl key file: the key after \(kind.label) is not base64")
        }
        guard decoded.count == 32 else {
            throw CryptoError(.invalidKeyLength, "key file \(path) holds a key of \(decoded.count) bytes; drctl keys are 32 bytes")
        }
        return (kind, [UInt8](decoded))
    }

    static func render(kind: Kind, raw: [UInt8]) -> String {
        "\(kind.comment)\n\(kind.label) \(Data(raw).base64EncodedString())\n"
    }

    /// Creates the file exclusively with mode 0600, writes, fsyncs the file and its directory.
    static func write(path: String, kind: Kind, raw: [UInt8]) throws {
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
        let bytes = Array(render(kind: kind, raw: raw).utf8)
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

private func + (set: CharacterSet, extra: String) -> CharacterSet {
    set.union(CharacterSet(charactersIn: extra))
}

// The POSIX calls, under names that KeyFile's own read/write do not shadow.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}

private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(fd, buffer, count)
}
