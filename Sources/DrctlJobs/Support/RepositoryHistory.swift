import Logging
import DrctlPolicy
import DrctlStorage

/// A target's history as the metrics count it, merged over every readable region.
enum RepositoryHistory {
    static func manifests(_ repository: Repository, target: String) -> [BackupManifest] {
        var byID: [String: BackupManifest] = [:]
        for region in repository.regions {
            for manifest in (try? repository.manifests(in: region, target: target)) ?? [] where byID[manifest.backupID] == nil {
                byID[manifest.backupID] = manifest
            }
        }
        return Array(byID.values)
    }
}

/// A target's committed backups and failed runs, merged over the regions: read once after a
/// backup run and shared by its metrics and its notifications.
public struct BackupHistory: Sendable {
    public var manifests: [BackupManifest]
    public var failures: [FailureRecord]

    /// nil, with a warning naming the cause, when the repository cannot be read.
    public static func read(_ policy: RepositoryPolicy, target: String, logger: Logger) async -> BackupHistory? {
        do {
            return try await OffPool.run {
                let repository = try Repository(policy: policy)
                return BackupHistory(manifests: RepositoryHistory.manifests(repository, target: target),
                                     failures: repository.mergedRecords(FailureRecord.self, target: target).records)
            }
        } catch {
            logger.warning("repository history unreadable: metrics and notifications of this run may be incomplete",
                           metadata: ["error": "\(error)"])
            return nil
        }
    }
}
