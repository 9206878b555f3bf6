import Logging
import DrctlPolicy
import DrctlStorage

/// A target's committed backups and failed runs, merged over the regions: read once after a
/// backup run and shared by its metrics and its notifications.
public struct BackupHistory: Sendable {
    public var manifests: [BackupManifest]
    public var failures: [FailureRecord]
    /// Regions that could not be listed when the history was read.
    public var unreadableRegions: Set<String>

    /// nil, with a warning naming the cause, when the repository cannot be read.
    public static func read(_ policy: RepositoryPolicy, target: String, logger: Logger) async -> BackupHistory? {
        do {
            return try await OffPool.run {
                let repository = try Repository(readingPolicy: policy)
                let failures = RepositoryHistory.listing(FailureRecord.self, repository, target: target, logger: logger)
                return BackupHistory(manifests: RepositoryHistory.manifests(repository, target: target, logger: logger),
                                     failures: failures.records.filter(\.isBackupFailure), unreadableRegions: failures.unreadable)
            }
        } catch {
            logger.warning("repository history unreadable: metrics and notifications of this run may be incomplete",
                           metadata: ["error": "\(error)"])
            return nil
        }
    }
}
