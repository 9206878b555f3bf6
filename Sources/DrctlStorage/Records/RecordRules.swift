import Foundation

/// The readers' rules for records (docs/FORMAT.md, "Readers' rules"), applied by
/// `Repository.record(_:at:in:)` to every record read. One that breaks them is refused there:
/// left out of the history (`check`, the report, metrics, the agent's catch-up) and named in a
/// warning, while the region's other records still count.
public protocol RuledRecord {
    /// Why this record is refused at `now`, or nil when it keeps every rule.
    func violation(now: Date) -> String?
}

extension RuledRecord where Self: RepositoryRecord {
    /// The rule every record keeps: its id and times are not in the future.
    func futureTime(startedAt: Date, finishedAt: Date, now: Date) -> String? {
        guard let id = BackupID(recordID) else { return "its id '\(recordID)' is not a drctl id" }
        return ReaderRules.futureTime([("id", id.startedAt), ("started_at", startedAt), ("finished_at", finishedAt)], now: now)
    }
}

extension DrillRecord: RuledRecord {
    /// A drill in the future would be the last drill until that moment; a drill that says it
    /// passed (or only missed an objective) must have verified something, every check passing:
    /// `drctl drill` never writes one that checked nothing.
    public func violation(now: Date) -> String? {
        if let future = futureTime(startedAt: startedAt, finishedAt: finishedAt, now: now) { return future }
        guard result != .failed else { return nil }
        if checks.isEmpty { return "its result is '\(result.rawValue)' but it has no checks: nothing was verified" }
        if let failed = checks.first(where: { !$0.passed }) {
            return "its result is '\(result.rawValue)' but its check '\(failed.name)' failed"
        }
        return nil
    }
}

extension FailureRecord: RuledRecord {
    /// A failure in the future would be the last failure, and the agent's last backup run.
    public func violation(now: Date) -> String? {
        futureTime(startedAt: startedAt, finishedAt: finishedAt, now: now)
    }
}
