import DrctlCrypto
import DrctlPolicy

/// The keys this host holds, as the policy names them. A host that takes backups may hold
/// only the public key; restoring and verifying need the secret key. What a host writes is
/// signed with its signing key, and what it reads is accepted from its writers (repository
/// format version 2, docs/FORMAT.md, "Writer signature").
public struct KeyRing: Sendable {
    public let secretKey: SecretKey?
    public let publicKey: PublicKey?
    /// What signs the documents this host writes: `encryption.signing_key_file`, else derived
    /// from the secret key (symmetric mode); nil on a host with neither, which can only read
    /// (`requireSigningKey()` says how to make one).
    public let signingKey: SigningKey?
    /// The writers whose signatures this host accepts: `encryption.writers`, and the secret
    /// key's derived writer when this host holds the secret key. Needs no secret key, so that
    /// reading commands on a backup-only host check signatures too.
    public let writers: [WriterKey]
    /// `encryption.scheme`: the only wrap scheme a backup's data key may use here; nil when not pinned.
    public let pinnedScheme: WrapScheme?
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
        let derived = secretKey.map(SigningKey.init(derivedFrom:))
        var writers = try policy.writers.map { try WriterKey.load(path: $0) }
        if let derived, !writers.contains(derived.writerKey) { writers.append(derived.writerKey) }
        self.writers = writers
        if let signingKeyPath = policy.signingKeyFile {
            let signingKey = try SigningKey.load(path: signingKeyPath)
            guard writers.contains(signingKey.writerKey) else {
                throw JobError.unlistedWriter(signingKeyPath: signingKeyPath, signerID: signingKey.signerID)
            }
            self.signingKey = signingKey
        } else {
            signingKey = derived
        }
        pinnedScheme = policy.scheme.map(\.wrapScheme)
    }

    /// The signing key, for the commands that write (backup, drill, prune, sync, locks).
    public func requireSigningKey() throws -> SigningKey {
        if let signingKey { return signingKey }
        if secretKey == nil && publicKey == nil { throw JobError.noKey }
        throw JobError.signingKeyNeeded(publicKeyPath: publicKeyPath)
    }

    /// What a run signs the record of its outcome with, even when its keys could not all be
    /// loaded: a run that failed over one key file (a broken public key, a `--key` that is not
    /// there) still signs its failure record with the signing key the policy names
    /// (`signing_key_file`, else derived from `key_file`) when that one loads. The error, when
    /// there is none, names the key that is missing.
    public static func recordSigningKey(_ keys: Result<KeyRing, Error>, policy: EncryptionPolicy) -> Result<SigningKey, any Error> {
        if case .success(let ring) = keys { return Result { try ring.requireSigningKey() } }
        return Result {
            if let path = policy.signingKeyFile { return try SigningKey.load(path: path) }
            if let path = policy.keyFile { return SigningKey(derivedFrom: try SecretKey.load(path: path)) }
            return try keys.get().requireSigningKey()
        }
    }

    /// Wraps a new backup's data key: to the public key if there is one (recipient mode),
    /// else with the secret key (symmetric mode).
    func wrap(_ dataKey: DataKey, binding: WrapBinding) throws -> WrappedDataKey {
        if let publicKey { return KeyWrap.wrapForRecipient(dataKey, to: publicKey, binding: binding) }
        if let secretKey { return KeyWrap.wrapSymmetric(dataKey, with: secretKey, binding: binding) }
        throw JobError.noKey
    }

    /// The data key of a stored backup; needs the secret key.
    func unwrap(_ wrapped: WrappedDataKey, binding: WrapBinding) throws -> DataKey {
        try checkPinnedScheme(of: wrapped)
        guard let secretKey else {
            throw JobError.secretKeyNeeded(publicKeyPath: publicKeyPath)
        }
        return try KeyWrap.unwrap(wrapped, with: secretKey, binding: binding)
    }

    /// A data key wrapped otherwise than the policy pins was written by none of this
    /// repository's hosts: refused before any key is tried on it.
    func checkPinnedScheme(of wrapped: WrappedDataKey) throws {
        guard let pinnedScheme, wrapped.scheme != pinnedScheme else { return }
        throw JobError.wrapSchemeNotPinned(found: EncryptionScheme(wrapped.scheme).rawValue,
                                           pinned: EncryptionScheme(pinnedScheme).rawValue)
    }
}
