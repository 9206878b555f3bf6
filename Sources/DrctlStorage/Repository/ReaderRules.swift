import Foundation

/// What every reader refuses, whatever a region holds (docs/FORMAT.md, "Readers' rules").
///
/// Anyone who can write to one region's storage can put documents there without any key: a
/// manifest, a record or a lock copied from a real one and edited. What drctl decides from them
/// (what retention keeps, what sync copies, where a restore writes, how `check` judges a
/// target, whether a backup may run) must not be theirs to decide. The rules here refuse what
/// drctl itself never writes; the manifest's and the records' own rules are in
/// `ManifestRules` and `RecordRules`, the lock's in `LockRecord.refusal(at:)`.
public enum ReaderRules {
    /// How far ahead of this host's clock a stored id or time may be and still be believed:
    /// the hosts of a repository keep their clocks in step (NTP) to well within this. Anything
    /// later was written by a host whose clock is badly wrong, or planted to sort after every
    /// real backup, record or lock.
    public static let clockSkew: TimeInterval = 5 * 60

    /// Why one of `times` (a name and a time each) is refused as being in the future at `now`,
    /// or nil when none is more than `clockSkew` ahead.
    public static func futureTime(_ times: [(name: String, time: Date)], now: Date) -> String? {
        guard let late = times.first(where: { $0.time.timeIntervalSince(now) > clockSkew }) else { return nil }
        return "its \(late.name) \(Timestamp.format(late.time)) is in the future "
            + "(more than \(Int(clockSkew / 60)) minutes after this host's clock, \(Timestamp.format(now)))"
    }
}
