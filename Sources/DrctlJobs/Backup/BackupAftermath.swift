import Foundation
import Logging
import DrctlPolicy
import DrctlStorage

/// What follows every backup run, one-shot (`drctl backup`) or scheduled (the agent): one read
/// of the target's history, shared by the metrics (written or pushed where `metrics:` says) and
/// the notifications.
public enum BackupAftermath {
    /// - Parameters:
    ///   - manifest: the committed backup; nil when the run failed with `error`.
    ///   - served: the caller serves the families itself (the agent's /metrics), so they are
    ///     needed even when the policy neither writes metrics nor notifies.
    /// - Returns: the run's metric families; empty when nothing needed them (the history is then
    ///   not read at all).
    @discardableResult
    public static func report(policy: Policy, target: String, manifest: BackupManifest?, error: Error?, startedAt: Date,
                              served: Bool = false, logger: Logger) async -> [MetricFamily] {
        guard served || policy.metrics != nil || !policy.notifications.isEmpty else { return [] }
        guard let targetPolicy = policy.target(named: target) else { return [] }
        let history = await BackupHistory.read(policy.repository, target: target, logger: logger)
        let families = MetricsPublisher.backupFamilies(target: targetPolicy, regions: policy.repository.regions.map(\.name),
                                                       manifest: manifest, startedAt: startedAt,
                                                       durationSeconds: Date().timeIntervalSince(startedAt), history: history)
        await MetricsPublisher(policy: policy.metrics, logger: logger).publish(families, command: "backup", target: target)
        await Notifier(channels: policy.notifications, logger: logger).backupFinished(
            target: target, manifest: manifest, error: manifest == nil ? error : nil, startedAt: startedAt, history: history)
        return families
    }
}
