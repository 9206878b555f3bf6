import DrctlCrypto
import Foundation

/// How one run writes and reads the signed documents of a repository that are not manifests:
/// drill and failure records, lock generations and prune records (docs/FORMAT.md, "Records",
/// "Lock", "Prune record"). Version 2 documents carry a writer signature (no MAC) over their
/// exact bytes for the address the reader expects; version 1 ones carry nothing, and are believed
/// only where the repository's version allows one.
///
/// Made from the repository's identity (`Repository.signedDocuments(signingKey:)`): nil
/// `repositoryID` is a version 1 repository, which keeps writing and reading version 1 exactly
/// as before. The signing key is a `Result` so that a run without one is told which key it
/// lacks, by the writer that needed it, while it reads as well as any other run.
public struct SignedDocuments: Sendable {
    public let identity: RepositoryIdentity
    /// What this run signs with, or why it has nothing to sign with (`KeyRing.requireSigningKey`).
    public let signingKey: Result<SigningKey, any Error>
    /// Whose signatures are believed (the policy's writers), or why none can be checked here.
    public let writers: Result<[WriterKey], any Error>

    public init(identity: RepositoryIdentity, signingKey: Result<SigningKey, any Error>, writers: Result<[WriterKey], any Error>) {
        self.identity = identity
        self.signingKey = signingKey
        self.writers = writers
    }

    /// A version 1 repository: documents are written and read without authentication.
    public static let versionOne = SignedDocuments(identity: .versionOne, signingKey: .failure(ReadOnly()),
                                                   writers: .failure(WriterTrust.NoWriters()))

    /// The signing key of a run that only reads.
    public struct ReadOnly: Error, CustomStringConvertible {
        public init() {}
        public var description: String { "this reader was given no signing key" }
    }

    /// Whether documents are written as version 2 (signed).
    public var signs: Bool { identity.repositoryID != nil }

    /// The stored bytes of `document`: version 1 as before in a version 1 repository, else
    /// version 2 with the placeholder and then its signature written in place for
    /// `kind`/`target`/`id`. Throws the missing signing key's error in a version 2 repository.
    public func stored<D: SignableDocument>(_ document: D, kind: DocumentKind, target: String, id: String) throws -> [UInt8] {
        guard let repositoryID = identity.repositoryID else { return try D.encode(document) }
        let signingKey = try signingKey.get()
        var signed = document
        signed.version = max(signed.version, 2)
        signed.authentication = .placeholder(signer: signingKey.signerID, withMAC: false)
        return try DocumentSeal.sealed(D.encode(signed), at: DocumentAddress(kind: kind, repositoryID: repositoryID, target: target, id: id),
                                       signingKey: signingKey)
    }

    /// Why the stored bytes of `document`, read at the key that names `target` and `id`, are not
    /// believed, or nil when they are: a version 2 document needs a repository id, its
    /// authentication and a policy writer's valid signature for that address; a version 1 one
    /// must date (`writtenAt`) from before the repository became version 2.
    public func failure<D: SignableDocument>(of document: D, stored bytes: [UInt8], kind: DocumentKind, target: String, id: String,
                                             writtenAt: Date) -> SealFailure? {
        guard document.version >= 2 else {
            guard let before = identity.versionOneBefore, writtenAt < before else {
                return .malformed("a version 1 \(kind.rawValue) (unauthenticated) dated after the repository became version 2: "
                    + "drctl writes only version 2 ones here")
            }
            return nil
        }
        guard let repositoryID = identity.repositoryID else {
            return .malformed("a version 2 \(kind.rawValue) in a version 1 repository (its repository.json has no repository_id)")
        }
        guard let field = document.authentication else { return .malformed("a version 2 \(kind.rawValue) without its authentication") }
        let writers: [WriterKey]
        switch self.writers {
        case .success(let known): writers = known
        case .failure(let error): return .uncheckable("\(error)")
        }
        do {
            _ = try DocumentSeal.verifiedSignature(of: bytes, signer: field.signer,
                                                   at: DocumentAddress(kind: kind, repositoryID: repositoryID, target: target, id: id),
                                                   writers: writers)
            return nil
        } catch let failure as SealFailure {
            return failure
        } catch {
            return .malformed("\(error)")
        }
    }
}

/// A document `SignedDocuments` writes and checks: it has a version, and an `authentication`
/// member from version 2 on, and is stored in the manifest's JSON conventions.
public protocol SignableDocument: Encodable {
    var version: Int { get set }
    var authentication: AuthenticationField? { get set }
}

extension SignableDocument {
    /// Sorted keys, pretty-printed, a newline after: as manifests are stored.
    static func encode(_ document: Self) throws -> [UInt8] {
        Array(try ManifestCoding.encoder.encode(document)) + [0x0a]
    }
}

extension Repository {
    /// How this repository's records, locks and prune records are signed and checked: by its
    /// identity (version 1: not at all), the policy's writers, and `signingKey` for writing.
    /// Throws when the identity cannot be settled (regions naming different ids).
    public func signedDocuments(signingKey: Result<SigningKey, any Error>) throws -> SignedDocuments {
        SignedDocuments(identity: try identity().get(), signingKey: signingKey, writers: trust.writers)
    }
}
