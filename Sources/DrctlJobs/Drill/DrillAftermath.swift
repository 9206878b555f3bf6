import Logging
import DrctlPolicy
import DrctlStorage

/// What follows every drill, one-shot (`drctl drill`) or scheduled (the agent): its metrics
/// (written or pushed where `metrics:` says, with the target's drill history) and the
/// notification of a failed drill or a missed objective.
public enum DrillAftermath {
    /// - Parameter served: the caller serves the families itself (the agent's /metrics), so
    ///   they are needed even when the policy writes no metrics.
    /// - Returns: the drill's metric families; empty when nothing needed them (the history is
    ///   then not read at all).
    @discardableResult
    public static func report(policy: Policy, record: DrillRecord, served: Bool = false, logger: Logger) async -> [MetricFamily] {
        let families = served || policy.metrics != nil
            ? await MetricsPublisher.drillFamilies(record, repository: policy.repository, logger: logger) : []
        await MetricsPublisher(policy: policy.metrics, logger: logger).publish(families, command: "drill", target: record.target)
        await Notifier(channels: policy.notifications, logger: logger).drillFinished(record)
        return families
    }
}
