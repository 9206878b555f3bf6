import Logging
import DrctlPolicy
import DrctlStorage

/// A target's history merged over every readable region, as metrics, notifications, catch-up
/// and drill picks count it. A region that cannot be read is named in a warning: the figures
/// then come from the other regions alone and may be low.
enum RepositoryHistory {
    /// The manifests of every region that can be read (the one listing `BackupLocator` makes,
    /// which names each region it cannot read in a warning).
    static func manifests(_ repository: Repository, target: String, logger: Logger) -> [BackupManifest] {
        (try? BackupLocator(repository: repository, logger: logger).catalog(target: target, regions: repository.regions))?
            .manifests ?? []
    }

    static func records<R: RepositoryRecord>(_ type: R.Type, _ repository: Repository, target: String, logger: Logger) -> [R] {
        listing(R.self, repository, target: target, logger: logger).records
    }

    /// The records, and the regions whose records could not be listed.
    static func listing<R: RepositoryRecord>(_ type: R.Type, _ repository: Repository, target: String,
                                             logger: Logger) -> (records: [R], unreadable: Set<String>) {
        let merged = repository.mergedRecords(R.self, target: target)
        for (region, error) in merged.unreadable {
            warnUnreadable(region, error, what: R.formatName, target: target, logger: logger)
        }
        for error in merged.refused {
            logger.warning("record refused: left out of the history", metadata: ["target": "\(target)", "error": "\(error)"])
        }
        return (merged.records, Set(merged.unreadable.map(\.region)))
    }

    private static func warnUnreadable(_ region: String, _ error: Error, what: String, target: String, logger: Logger) {
        logger.warning("region unreadable: history from the other regions only", metadata: [
            "region": "\(region)", "target": "\(target)", "records": "\(what)", "error": "\(error)",
        ])
    }
}
