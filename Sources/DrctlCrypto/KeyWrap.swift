import Foundation

/// How a backup's data key is wrapped (docs/FORMAT.md, "Wrapped data key").
public enum WrapScheme: String, Codable, Sendable {
    /// With the secret key as master key: KEK = HKDF-SHA256(secret, "", "drctl v1 symmetric wrap").
    case symmetric = "aes-256-gcm-hkdf-sha256"
    /// To a recipient public key: ephemeral X25519, KEK = HKDF-SHA256(shared, eph_pub || recipient_pub,
    /// "drctl v1 x25519 wrap").
    case x25519 = "x25519-hkdf-sha256-aes-256-gcm"
}

/// A backup's data key, encrypted for the repository key; stored in the backup manifest.
public struct WrappedDataKey: Codable, Sendable, Equatable {
    public var scheme: WrapScheme
    /// The key id of the key that unwraps it (`SecretKey.keyID`).
    public var keyID: String
    /// Base64 of the 32-byte ephemeral X25519 public key; x25519 only.
    public var ephemeralPublicKey: String?
    /// Base64 of the 12-byte AES-GCM nonce.
    public var nonce: String
    /// Base64 of the encrypted 32-byte data key followed by the 16-byte tag.
    public var ciphertext: String

    public init(scheme: WrapScheme, keyID: String, ephemeralPublicKey: String?, nonce: String, ciphertext: String) {
        self.scheme = scheme
        self.keyID = keyID
        self.ephemeralPublicKey = ephemeralPublicKey
        self.nonce = nonce
        self.ciphertext = ciphertext
    }

    enum CodingKeys: String, CodingKey {
        case scheme
        case keyID = "key_id"
        case ephemeralPublicKey = "ephemeral_public_key"
        case nonce, ciphertext
    }
}

/// What a wrapped data key is bound to through its AAD: version 1 binds the backup id only;
/// version 2 the repository, the target and the backup id (docs/FORMAT.md, "Bindings"), so a
/// backup moved to another target or repository no longer opens.
public enum WrapBinding: Sendable, Equatable {
    case versionOne(backupID: String)
    case versionTwo(repositoryID: String, target: String, backupID: String)

    var aad: [UInt8] {
        switch self {
        case .versionOne(let backupID):
            return Array("drctl v1 wrap\0".utf8) + Array(backupID.utf8)
        case .versionTwo(let repositoryID, let target, let backupID):
            return AuthenticatedBytes.context(purpose: "wrap", repositoryID: repositoryID, target: target, id: backupID)
        }
    }

    public var backupID: String {
        switch self {
        case .versionOne(let backupID), .versionTwo(_, _, let backupID): return backupID
        }
    }

    /// How a failure to open names the backup.
    var described: String {
        switch self {
        case .versionOne(let backupID): return "backup \(backupID)"
        case .versionTwo(let repositoryID, let target, let backupID):
            return "backup \(backupID) of target '\(target)' in repository \(repositoryID)"
        }
    }
}

public enum KeyWrap {
    static let symmetricInfo = "drctl v1 symmetric wrap"
    static let x25519Info = "drctl v1 x25519 wrap"

    static func symmetricKEK(_ key: SecretKey) -> SecretBytes {
        HKDF.derive32(ikm: key.secret, salt: [], info: symmetricInfo)
    }

    static func x25519KEK(shared: SecretBytes, ephemeralPublic: [UInt8], recipient: [UInt8]) -> SecretBytes {
        HKDF.derive32(ikm: shared, salt: ephemeralPublic + recipient, info: x25519Info)
    }

    /// Wraps with the secret key itself (symmetric mode: the host holds the secret key).
    public static func wrapSymmetric(_ dataKey: DataKey, with key: SecretKey, binding: WrapBinding) -> WrappedDataKey {
        wrapSymmetric(dataKey, with: key, binding: binding, nonce: secureRandomBytes(AESGCM.nonceSize))
    }

    static func wrapSymmetric(_ dataKey: DataKey, with key: SecretKey, binding: WrapBinding, nonce: [UInt8]) -> WrappedDataKey {
        let sealed = AESGCM.seal(key: symmetricKEK(key), nonce: nonce, aad: binding.aad,
                                 plaintext: dataKey.secret)
        return WrappedDataKey(scheme: .symmetric, keyID: key.keyID, ephemeralPublicKey: nil,
                              nonce: base64(nonce), ciphertext: base64(sealed))
    }

    /// Wraps to a public key (recipient mode: the host needs no secret to take backups).
    public static func wrapForRecipient(_ dataKey: DataKey, to recipient: PublicKey, binding: WrapBinding) -> WrappedDataKey {
        wrapForRecipient(dataKey, to: recipient, binding: binding,
                         ephemeral: SecretKey.generate(), nonce: secureRandomBytes(AESGCM.nonceSize))
    }

    static func wrapForRecipient(_ dataKey: DataKey, to recipient: PublicKey, binding: WrapBinding,
                                 ephemeral: SecretKey, nonce: [UInt8]) -> WrappedDataKey {
        // PublicKey's initializer refuses low-order points, so the exchange cannot fail.
        guard let shared = X25519.sharedSecret(privateKey: ephemeral.secret, peer: recipient.rawBytes) else {
            preconditionFailure("X25519 with a validated public key failed")
        }
        let ephemeralPublic = ephemeral.publicKey.rawBytes
        let kek = x25519KEK(shared: shared, ephemeralPublic: ephemeralPublic, recipient: recipient.rawBytes)
        let sealed = AESGCM.seal(key: kek, nonce: nonce, aad: binding.aad, plaintext: dataKey.secret)
        return WrappedDataKey(scheme: .x25519, keyID: recipient.keyID, ephemeralPublicKey: base64(ephemeralPublic),
                              nonce: base64(nonce), ciphertext: base64(sealed))
    }

    /// The data key of the backup `binding` names; needs the secret key the data key was wrapped for.
    public static func unwrap(_ wrapped: WrappedDataKey, with key: SecretKey, binding: WrapBinding) throws -> DataKey {
        guard wrapped.keyID == key.keyID else {
            throw CryptoError(.wrongKey,
                              "\(binding.described) was encrypted for key \(wrapped.keyID), but the key given is \(key.keyID): "
                                  + "use the secret key with id \(wrapped.keyID)")
        }
        func malformed(_ what: String) -> CryptoError {
            CryptoError(.malformedWrappedKey,
                        "the wrapped data key in the manifest of \(binding.described) is damaged: \(what); "
                            + "the manifest was altered or corrupted")
        }
        guard let nonce = decodeBase64(wrapped.nonce), nonce.count == AESGCM.nonceSize else {
            throw malformed("its nonce is not base64 of 12 bytes")
        }
        guard let sealed = decodeBase64(wrapped.ciphertext), sealed.count == 32 + AESGCM.tagSize else {
            throw malformed("its ciphertext is not base64 of 48 bytes")
        }
        let kek: SecretBytes
        switch wrapped.scheme {
        case .symmetric:
            kek = symmetricKEK(key)
        case .x25519:
            guard let encoded = wrapped.ephemeralPublicKey, let ephemeral = decodeBase64(encoded), ephemeral.count == 32 else {
                throw malformed("its ephemeral_public_key is missing or not base64 of 32 bytes")
            }
            guard let shared = X25519.sharedSecret(privateKey: key.secret, peer: ephemeral) else {
                throw tampered(binding)
            }
            kek = x25519KEK(shared: shared, ephemeralPublic: ephemeral, recipient: key.publicKey.rawBytes)
        }
        guard let raw = AESGCM.open(key: kek, nonce: nonce, aad: binding.aad, sealed: sealed) else {
            throw tampered(binding)
        }
        return DataKey(unchecked: raw)
    }

    private static func tampered(_ binding: WrapBinding) -> CryptoError {
        CryptoError(.manifestKeyTampered,
                    "wrapped data key of \(binding.described) failed authentication: the manifest was altered "
                        + "or moved (it belongs to another backup id, target or repository); restore from another copy of the manifest")
    }
}

func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

func decodeBase64(_ text: String) -> [UInt8]? { Data(base64Encoded: text).map { [UInt8]($0) } }
