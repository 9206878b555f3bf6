import Foundation
import Logging
import DrctlPolicy

/// `drctl_wal_last_archived_timestamp_seconds{target}`: when `wal-push` last stored a WAL file
/// of the target at quorum. Everything committed since then is at risk, so it is the recovery
/// point of a physical target that DrctlWalArchiveStale judges against the RPO objective.
///
/// `wal-push` writes it on success, to the textfile directory only
/// (`drctl_<target>_wal-push.prom`, not fsynced: `TextfileWriter`): it runs once per segment on
/// the archiver's critical path, where a Pushgateway PUT would add an HTTP round trip (and a
/// hung gateway its timeout) to every segment. `drctl check --json` reports the same moment as
/// `wal.archived_at` from the archive itself, for hosts without a textfile collector.
public enum WalMetrics {
    public static let textfileCommand = "wal-push"

    public static func lastArchived(target: String, at date: Date) -> MetricFamily {
        MetricFamily("drctl_wal_last_archived_timestamp_seconds", .gauge,
                     help: "When wal-push last stored a WAL file of the target in min_regions regions.",
                     samples: [.init(labels: [("target", target)], value: (date.timeIntervalSince1970 * 1000).rounded() / 1000)])
    }

    /// Writes the metric after a successful push; a failure is logged, never thrown (the file is
    /// archived whatever the metrics do).
    public static func publish(target: String, at date: Date, policy: MetricsPolicy?, logger: Logger) {
        guard let directory = policy?.textfileDirectory else { return }
        do {
            try TextfileWriter(directory: directory).write(TextExposition.render([lastArchived(target: target, at: date)]),
                                                           command: textfileCommand, target: target, durable: false)
        } catch {
            logger.warning("metrics not written", metadata: ["error": "\(error)"])
        }
    }
}
