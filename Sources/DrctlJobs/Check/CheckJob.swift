import Foundation
import Logging
import DrctlPolicy
import DrctlStorage

/// `drctl check`: how every target stands, read from the repository alone (manifests, drill
/// and failure records), never from local state, and never writing: it runs from a monitoring
/// host with read-only credentials, and so notices an agent that never ran.
public struct CheckJob: BlockingJob {
    public let targets: [TargetPolicy]
    public let now: Date
    /// Overrides the default grace period (30 minutes plus the last backup's duration).
    public let grace: Duration?

    public init(targets: [TargetPolicy], now: Date = Date(), grace: Duration? = nil) {
        self.targets = targets
        self.now = now
        self.grace = grace
    }

    public struct Report: Sendable, Encodable {
        public var status: HealthStatus
        public var checkedAt: Date
        public var targets: [TargetHealth]
        /// The repository's id (format version 2), the value to pin as `repository.id`; nil for
        /// a version 1 repository or one whose id could not be told.
        public var repositoryID: String?

        /// Nagios's first line: `DRCTL CRITICAL - main-db: last backup 26h ago (rpo 24h); cache: … | perfdata`.
        public var summary: String {
            let perfdata = targets.compactMap { health -> String? in
                guard let backup = health.lastBackup else { return nil }
                let critical = health.rpoSeconds.map { String(Int($0)) } ?? ""
                return "'\(health.target)_backup_age'=\(Int(backup.ageSeconds))s" + (critical.isEmpty ? "" : ";;\(critical)")
            }
            let text = targets.sorted { $0.status > $1.status }.map(\.headline).joined(separator: "; ")
            return "DRCTL \(status.name) - \(text)" + (perfdata.isEmpty ? "" : " | " + perfdata.joined(separator: " "))
        }

        enum CodingKeys: String, CodingKey {
            case status, targets
            case checkedAt = "checked_at", repositoryID = "repository_id"
        }
    }

    public func runBlocking(in context: JobContext) throws -> Report {
        let (policy, logger) = (context.policy, context.logger)
        let repository = try Repository(readingPolicy: policy.repository)
        let identity = identityProblems(repository)
        var results: [TargetHealth] = []
        for target in targets {
            let reading = TargetReading(target.name, from: repository, physical: target.mode == .physical, logger: logger)
            let (views, drills, failures) = (reading.views, reading.drills, reading.failures)
            for (region, error) in drills.unreadable + failures.unreadable {
                logger.warning("records unreadable", metadata: ["region": "\(region)", "error": "\(error)"])
            }
            // Signed prune records explain the gaps prune made in the backups' chain (`BackupChain`).
            let prunes = reading.prunes
            let pruned = Set(prunes.records.flatMap { $0.removed.map(\.backupID) })
            let refused = drills.refused + failures.refused + prunes.refused
            for error in refused {
                logger.warning("record refused", metadata: ["error": "\(error)"])
            }
            var health = TargetHealth.judge(target, regions: views, drills: drills.records, failures: failures.records,
                                            refused: refused.map { "\($0)" }, problems: identity + reading.lockProblems,
                                            pruned: pruned, now: now, grace: grace)
            if let wal = reading.wal { health.judgeWal(wal, now: now) }
            results.append(health)
        }
        return Report(status: results.map(\.status).max() ?? .ok, checkedAt: now, targets: results,
                      repositoryID: try? repository.identity().get().repositoryID)
    }

    /// What is wrong with the repository as a whole (docs/FORMAT.md, "Identity: repository id
    /// and target"): regions that disagree about its id, or a version 1 repository, whose
    /// documents anyone who can write to a region can plant.
    private func identityProblems(_ repository: Repository) -> [String] {
        switch repository.identity() {
        case .failure(let error):
            return ["\(error)"]
        case .success(let identity) where identity.repositoryID == nil:
            let written = repository.regions.contains { (try? repository.marker(in: $0)) != nil }
            return written ? ["the repository is version 1: its manifests, records and locks are not authenticated, so "
                + "someone who can write to a region can plant or edit them; run `drctl repository upgrade`"] : []
        case .success:
            return []
        }
    }
}
