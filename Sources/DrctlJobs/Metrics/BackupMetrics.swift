import Foundation
import DrctlStorage

/// The metrics of a backup run (DESIGN.md §8): this run's duration and sizes and the regions it
/// could use, and from the repository the last success and the count of backups by result
/// (complete and degraded from manifests, failed from failure records).
public struct BackupMetrics: Sendable {
    public let target: String
    /// The committed backup; nil when the run failed.
    public let manifest: BackupManifest?
    public let durationSeconds: Double
    public let runStartedAt: Date
    public let manifests: [BackupManifest]
    public let failures: [FailureRecord]
    /// The policy's regions, in order.
    public let regions: [String]
    /// Regions that could not be listed after the run.
    public let unreadableRegions: Set<String>

    public init(target: String, manifest: BackupManifest?, durationSeconds: Double, runStartedAt: Date,
                manifests: [BackupManifest], failures: [FailureRecord], regions: [String] = [], unreadableRegions: Set<String> = []) {
        self.target = target
        self.manifest = manifest
        self.durationSeconds = durationSeconds
        self.runStartedAt = runStartedAt
        self.manifests = manifests
        self.failures = failures
        self.regions = regions
        self.unreadableRegions = unreadableRegions
    }

    public static func lastSuccess(target: String, at date: Date?) -> MetricFamily {
        MetricFamily("drctl_backup_last_success_timestamp_seconds", .gauge, help: "When the newest committed backup finished.",
                     samples: date.map { [.init(labels: [("target", target)], value: $0.timeIntervalSince1970)] } ?? [])
    }

    public var families: [MetricFamily] {
        let labels = [("target", target)]
        var byID = Dictionary(manifests.map { ($0.backupID, $0) }, uniquingKeysWith: { first, _ in first })
        if let manifest { byID[manifest.backupID] = manifest }
        // A failed run that left no failure record (none could be written) still counts.
        let unrecorded = manifest == nil && failureOfThisRun == nil ? 1 : 0
        let counts: [(String, Int)] = [
            ("complete", byID.values.filter { $0.status == .complete }.count),
            ("degraded", byID.values.filter { $0.status == .degraded }.count),
            ("failed", failures.count + unrecorded),
        ]
        let lastSuccess = byID.values.map(\.finishedAt).max()
        return [
            Self.lastSuccess(target: target, at: lastSuccess),
            MetricFamily("drctl_backup_duration_seconds", .gauge, help: "Wall time of the last backup run.",
                         samples: [.init(labels: labels, value: (durationSeconds * 1000).rounded() / 1000)]),
            MetricFamily("drctl_backup_size_bytes", .gauge, help: "Size of the last committed backup: raw (read) and stored.",
                         samples: manifest.map { [.init(labels: labels + [("stage", "raw")], value: Double($0.rawSize)),
                                                  .init(labels: labels + [("stage", "stored")], value: Double($0.storedSize))] } ?? []),
            MetricFamily("drctl_backup_total", .counter, help: "Backups of the target in the repository, by result.",
                         samples: counts.map { .init(labels: labels + [("result", $0.0)], value: Double($0.1)) }),
            regionUp,
        ]
    }

    /// This run's failure record: its start is at or after the run's, but stored to the
    /// millisecond (allowed for).
    var failureOfThisRun: FailureRecord? {
        guard manifest == nil else { return nil }
        let runStart = runStartedAt.addingTimeInterval(-0.001)
        return failures.filter { $0.startedAt >= runStart }.max { $0.startedAt < $1.startedAt }
    }

    /// `drctl_region_up`, per region of the policy: 1 when this run could use it, 0 when the run
    /// dropped it (it is not among the regions holding the backup, or those still taking part
    /// when the run failed, as its failure record names them) or it could not be listed after
    /// the run. DrctlRegionDown alerts on it.
    var regionUp: MetricFamily {
        let used = manifest.map { Set($0.regions) } ?? failureOfThisRun.map { Set($0.regions) }
        return MetricFamily("drctl_region_up", .gauge, help: "Whether the last backup run could use the region (1) or not (0).",
                            samples: regions.map { region in
                                let up = (used?.contains(region) ?? true) && !unreadableRegions.contains(region)
                                return .init(labels: [("target", target), ("region", region)], value: up ? 1 : 0)
                            })
    }
}
