import DrctlCrypto
import Foundation
import Synchronization

/// What a reader believes: the writers whose signatures it accepts and the repository id the
/// policy pins. Writers that could not be loaded (a key file this host lacks) leave every
/// version 2 document uncheckable, named with the reason, while version 1 repositories read as
/// before.
public struct WriterTrust: Sendable {
    public var writers: Result<[WriterKey], any Error>
    public var pinnedRepositoryID: String?

    public init(writers: Result<[WriterKey], any Error>, pinnedRepositoryID: String? = nil) {
        self.writers = writers
        self.pinnedRepositoryID = pinnedRepositoryID
    }

    /// No writer known: for repositories read in tests and tools that check no signature.
    public static let nobody = WriterTrust(writers: .failure(NoWriters()))

    struct NoWriters: Error, CustomStringConvertible {
        var description: String { "no writer key was given to this reader" }
    }
}

/// The repository's identity, read from the regions' markers once per `Repository` (and its
/// copies) and kept.
final class IdentityCache: Sendable {
    private let identity = Mutex<Result<RepositoryIdentity, any Error>?>(nil)

    /// The kept identity, or `resolve()`'s, kept (resolved under the lock: concurrent readers
    /// of one run wait for the one read instead of each reading every region's marker).
    func identity(_ resolve: () -> Result<RepositoryIdentity, any Error>) -> Result<RepositoryIdentity, any Error> {
        identity.withLock { kept in
            if let kept { return kept }
            let resolved = resolve()
            kept = resolved
            return resolved
        }
    }

    func remember(_ resolved: RepositoryIdentity) {
        identity.withLock { $0 = .success(resolved) }
    }
}
