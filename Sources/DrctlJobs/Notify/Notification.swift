import Foundation
import DrctlStorage

/// One thing a person should hear about, before it is shaped for a channel
/// (docs/POLICY.md, "Notifications").
public struct Notification: Sendable {
    public enum Event: String, Sendable {
        case backupFailed = "backup_failed"
        case backupDegraded = "backup_degraded"
        /// A backup committed after the target's previous run had failed.
        case backupRecovered = "backup_recovered"
        /// A scheduled backup did not run: the previous run of it was still going (agent).
        case backupMissed = "backup_missed"
        case drillFailed = "drill_failed"
        case drillObjectivesMissed = "drill_objectives_missed"

        /// The alert this event raises or (for a recovery) resolves, for Alertmanager.
        var alertName: String {
            switch self {
            case .backupFailed, .backupRecovered: return "DrctlBackupFailed"
            case .backupMissed: return "DrctlBackupMissed"
            case .backupDegraded: return "DrctlRegionDegraded"
            case .drillFailed: return "DrctlDrillFailed"
            case .drillObjectivesMissed: return "DrctlDrillObjectivesMissed"
            }
        }

        var severity: String {
            switch self {
            case .backupFailed, .drillFailed: return "critical"
            case .backupDegraded, .drillObjectivesMissed, .backupMissed: return "warning"
            case .backupRecovered: return "info"
            }
        }

        var resolves: Bool { self == .backupRecovered }
    }

    public var event: Event
    public var target: String
    /// One line a person reads first.
    public var summary: String
    /// The backup or drill id this is about.
    public var runID: String?
    public var error: String?
    public var at: Date
    /// For drill events: the whole record.
    public var drill: DrillRecord?

    public init(event: Event, target: String, summary: String, runID: String? = nil, error: String? = nil,
                at: Date = Date(), drill: DrillRecord? = nil) {
        self.event = event
        self.target = target
        self.summary = summary
        self.runID = runID
        self.error = error
        self.at = at
        self.drill = drill
    }
}
