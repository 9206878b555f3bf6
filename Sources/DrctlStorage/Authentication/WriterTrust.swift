import DrctlCrypto
import Foundation

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
final class IdentityCache: @unchecked Sendable {
    private let lock = NSLock()
    private var identity: Result<RepositoryIdentity, any Error>?

    func identity(_ resolve: () -> Result<RepositoryIdentity, any Error>) -> Result<RepositoryIdentity, any Error> {
        lock.lock()
        defer { lock.unlock() }
        if let identity { return identity }
        let resolved = resolve()
        identity = resolved
        return resolved
    }

    func remember(_ resolved: RepositoryIdentity) {
        lock.lock()
        defer { lock.unlock() }
        identity = .success(resolved)
    }
}
