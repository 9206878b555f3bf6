import Foundation
import Logging
import DrctlPolicy
import DrctlStorage

/// Delivers one run's metrics where the policy's `metrics:` says. Failures are logged, never
/// thrown: metrics must not change a backup's or a drill's outcome.
public struct MetricsPublisher: Sendable {
    public let policy: MetricsPolicy?
    public let logger: Logger

    public init(policy: MetricsPolicy?, logger: Logger) {
        self.policy = policy
        self.logger = logger
    }

    /// The objectives among `families` go to a textfile of their own (`ObjectiveMetrics`);
    /// a push carries everything in the command's group.
    public func publish(_ families: [MetricFamily], command: String, target: String) async {
        guard let policy else { return }
        let text = TextExposition.render(families)
        let objectives = families.filter { ObjectiveMetrics.names.contains($0.name) }
        let files = [(command, TextExposition.render(families.filter { !ObjectiveMetrics.names.contains($0.name) }))]
            + (objectives.isEmpty ? [] : [(ObjectiveMetrics.textfileCommand, TextExposition.render(objectives))])
        let logger = self.logger
        _ = try? await OffPool.run {
            if let directory = policy.textfileDirectory {
                do {
                    for (command, text) in files {
                        try TextfileWriter(directory: directory).write(text, command: command, target: target)
                    }
                } catch {
                    logger.warning("metrics not written", metadata: ["error": "\(error)"])
                }
            }
            if let url = policy.pushgateway {
                do {
                    try PushgatewayClient(url: url).push(text, command: command, target: target)
                } catch {
                    logger.warning("metrics not pushed", metadata: ["pushgateway": "\(url)", "error": "\(error)"])
                }
            }
        }
    }
}

extension MetricsPublisher {
    /// The families of a drill (the agent serves them on /metrics too).
    /// The history is read as `check` reads (`Repository(readingPolicy:)`): a region that does
    /// not answer within its read deadline is left out, named in a warning, instead of holding
    /// the drill's metrics (and the agent's next run) for as long as it hangs.
    public static func drillFamilies(_ record: DrillRecord, repository policy: RepositoryPolicy,
                                     logger: Logger = Logger(label: "drctl")) async -> [MetricFamily] {
        let history = (try? await OffPool.run { () throws -> [DrillRecord] in
            let merged = try Repository(readingPolicy: policy).mergedRecords(DrillRecord.self, target: record.target)
            for (region, error) in merged.unreadable {
                logger.warning("drill history unreadable; metrics count without it", metadata: ["region": "\(region)", "error": "\(error)"])
            }
            return merged.records
        }) ?? []
        return DrillMetrics(record: record, history: history).families
    }

    /// The families of a backup run (the agent serves them on /metrics too), with the
    /// target's objectives. Without a history (the repository could not be opened) no region
    /// counts as usable.
    public static func backupFamilies(target: TargetPolicy, regions: [String], manifest: BackupManifest?, startedAt: Date,
                                      durationSeconds: Double, history: BackupHistory?) -> [MetricFamily] {
        BackupMetrics(target: target.name, manifest: manifest, durationSeconds: durationSeconds, runStartedAt: startedAt,
                      manifests: history?.manifests ?? [], failures: history?.failures ?? [],
                      regions: regions, unreadableRegions: history?.unreadableRegions ?? Set(regions)).families
            + ObjectiveMetrics.families(of: target)
    }
}
