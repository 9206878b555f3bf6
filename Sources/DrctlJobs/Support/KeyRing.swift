import DrctlCrypto
import DrctlPolicy

/// The keys this host holds, as the policy names them. A host that takes backups may hold
/// only the public key; restoring and verifying need the secret key.
public struct KeyRing: Sendable {
    public let secretKey: SecretKey?
    public let publicKey: PublicKey?
    /// Where the keys came from, for messages.
    let secretKeyPath: String?
    let publicKeyPath: String?

    public init(policy: EncryptionPolicy, secretKeyOverride: String? = nil) throws {
        secretKeyPath = secretKeyOverride ?? policy.keyFile
        publicKeyPath = policy.publicKeyFile
        secretKey = try secretKeyPath.map { try SecretKey.load(path: $0) }
        publicKey = try publicKeyPath.map { try PublicKey.load(path: $0) }
        if let secretKey, let publicKey, secretKey.keyID != publicKey.keyID, secretKeyOverride == nil {
            throw JobError.keyMismatch(secret: secretKeyPath!, secretID: secretKey.keyID,
                                       public: publicKeyPath!, publicID: publicKey.keyID)
        }
    }

    /// What signs the documents this host writes (repository format version 2). Symmetric mode:
    /// derived from the secret key.
    public var signingKey: SigningKey? { secretKey.map(SigningKey.init(derivedFrom:)) }

    /// The signing key, or the error naming how to get one.
    func requireSigningKey() throws -> SigningKey {
        guard let signingKey else { throw JobError.signingKeyNeeded }
        return signingKey
    }

    /// The writers whose signatures this host accepts.
    public var writers: [WriterKey] { secretKey.map { [SigningKey(derivedFrom: $0).writerKey] } ?? [] }

    /// Wraps a new backup's data key: to the public key if there is one (recipient mode),
    /// else with the secret key (symmetric mode).
    func wrap(_ dataKey: DataKey, binding: WrapBinding) throws -> WrappedDataKey {
        if let publicKey { return KeyWrap.wrapForRecipient(dataKey, to: publicKey, binding: binding) }
        if let secretKey { return KeyWrap.wrapSymmetric(dataKey, with: secretKey, binding: binding) }
        throw JobError.noKey
    }

    /// The data key of a stored backup; needs the secret key.
    func unwrap(_ wrapped: WrappedDataKey, binding: WrapBinding) throws -> DataKey {
        guard let secretKey else {
            throw JobError.secretKeyNeeded(publicKeyPath: publicKeyPath)
        }
        return try KeyWrap.unwrap(wrapped, with: secretKey, binding: binding)
    }
}
