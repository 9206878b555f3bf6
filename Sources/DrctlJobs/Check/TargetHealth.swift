import Foundation
import DrctlPolicy
import DrctlStorage

/// How one target stands, judged from the repository alone (docs in README, "drctl check").
///
/// Thresholds:
/// - CRITICAL: no backup in any region; no region readable; the newest backup's consistent point
///   older than the RPO objective; without an RPO objective, two scheduled backups in a row
///   missed; the last drill `failed`.
/// - WARNING: the next scheduled backup is late (not committed by the schedule's next time after
///   the last backup's start + the grace period); a region unreadable or lacking the newest backup
///   (degraded); the last backup run failed; drills enabled and none in the last 35 days; the last
///   drill missed its objectives.
/// - The grace period is, unless given, 30 minutes plus the duration of the last backup.
public struct TargetHealth: Sendable, Encodable {
    public var target: String
    public var status: HealthStatus = .ok
    public var findings: [HealthFinding] = []
    public var lastBackup: LastBackup?
    /// When the next backup was due (the schedule's next time after the last one's start).
    public var nextDue: Date?
    public var graceSeconds: Double?
    public var rpoSeconds: Double?
    public var lastDrill: LastDrill?
    public var lastFailure: LastFailure?
    public var regions: [RegionHealth] = []
    /// A physical target's WAL archive.
    public var wal: WalHealth?

    public static let drillInterval: TimeInterval = 35 * 86_400
    public static let baseGrace: TimeInterval = 30 * 60

    public struct LastBackup: Sendable, Encodable {
        public var backupID: String
        public var startedAt: Date
        public var finishedAt: Date
        public var consistentPoint: Date
        /// now − consistent point: how much would be lost if the source died now.
        public var ageSeconds: Double
        public var regions: [String]

        enum CodingKeys: String, CodingKey {
            case regions
            case backupID = "backup_id", startedAt = "started_at", finishedAt = "finished_at"
            case consistentPoint = "consistent_point", ageSeconds = "age_seconds"
        }
    }

    public struct LastDrill: Sendable, Encodable {
        public var drillID: String
        public var result: String
        public var startedAt: Date
        public var ageSeconds: Double
        public var reasons: [String]

        enum CodingKeys: String, CodingKey {
            case result, reasons
            case drillID = "drill_id", startedAt = "started_at", ageSeconds = "age_seconds"
        }
    }

    public struct LastFailure: Sendable, Encodable {
        public var runID: String
        public var finishedAt: Date
        public var error: String

        enum CodingKeys: String, CodingKey {
            case error
            case runID = "run_id", finishedAt = "finished_at"
        }
    }

    public struct RegionHealth: Sendable, Encodable {
        public var region: String
        /// `ok`, `degraded` (lacks the newest backup) or `unreadable`.
        public var state: String
        public var backups: Int
        public var newestBackupID: String?
        /// now − the consistent point of the newest backup this region holds.
        public var newestAgeSeconds: Double?
        public var error: String?

        enum CodingKeys: String, CodingKey {
            case region, state, backups, error
            case newestBackupID = "newest_backup_id", newestAgeSeconds = "newest_age_seconds"
        }
    }

    enum CodingKeys: String, CodingKey {
        case target, status, findings, regions, wal
        case lastBackup = "last_backup", nextDue = "next_due", graceSeconds = "grace_seconds"
        case rpoSeconds = "rpo_seconds", lastDrill = "last_drill", lastFailure = "last_failure"
    }

    /// What one region showed: its manifests of the target (and those it holds that could not
    /// be read), or why it could not be listed.
    public struct RegionView: Sendable {
        public var region: String
        public var manifests: [BackupManifest]?
        public var unreadable: [UnreadableManifest]
        public var error: String?

        public init(region: String, manifests: [BackupManifest]? = nil, unreadable: [UnreadableManifest] = [], error: String? = nil) {
            self.region = region
            self.manifests = manifests
            self.unreadable = unreadable
            self.error = error
        }
    }

    /// Judges a target from what the regions showed. Pure: everything comes in as arguments.
    /// `refused`: records the readers' rules refused (each a warning: someone wrote them, and
    /// drctl did not), and `problems`: anything else found wrong in the target's repository
    /// objects (a lock that is not honoured), each a warning too.
    public static func judge(_ target: TargetPolicy, regions views: [RegionView], drills: [DrillRecord],
                             failures: [FailureRecord], refused: [String] = [], problems: [String] = [],
                             pruned: Set<String> = [], now: Date, grace: Duration? = nil) -> TargetHealth {
        var health = TargetHealth(target: target.name)
        health.rpoSeconds = target.objectives?.rpo.map { Double($0.components.seconds) }
        func find(_ status: HealthStatus, _ message: String) { health.findings.append(HealthFinding(status, message)) }
        for message in refused + problems { find(.warning, message) }

        let readable = views.filter { $0.manifests != nil }
        let newest = readable.flatMap { $0.manifests! }.max { $0.backupID < $1.backupID }
        // A wal-push conflict is not a failed backup: reported on its own, until a newer base backup.
        for conflict in failures.filter({ !$0.isBackupFailure }) where newest.map({ conflict.runID > $0.backupID }) ?? true {
            find(.warning, "WAL conflict (\(Timestamp.format(conflict.finishedAt))): \(conflict.error)")
        }
        let failures = failures.filter(\.isBackupFailure)
        for view in views {
            if let error = view.error {
                health.regions.append(RegionHealth(region: view.region, state: "unreadable", backups: 0, error: error))
                find(.warning, "region \(view.region) unreadable: \(error)")
                continue
            }
            for damaged in view.unreadable {
                find(.warning, "\(damaged)")
            }
            let manifests = view.manifests ?? []
            let holdsNewest = newest.map { newest in manifests.contains { $0.backupID == newest.backupID } } ?? true
            let regionNewest = manifests.max { $0.backupID < $1.backupID }
            health.regions.append(RegionHealth(region: view.region, state: holdsNewest ? "ok" : "degraded",
                                               backups: manifests.count, newestBackupID: regionNewest?.backupID,
                                               newestAgeSeconds: regionNewest.map { now.timeIntervalSince($0.consistentPoint.time) }))
            if !holdsNewest, let newest {
                find(.warning, newest.regions.contains(view.region)
                    ? "region \(view.region) lacks the newest backup \(newest.backupID), which was committed there: its manifest "
                        + "was removed (or the region rolled back) by something other than drctl prune"
                    : "region \(view.region) lacks the newest backup (degraded)")
            }
        }
        if readable.count == views.count {
            let present = Set(views.flatMap { ($0.manifests ?? []).map(\.backupID) + $0.unreadable.map(\.backupID) })
            for gap in BackupChain.gaps(in: readable.flatMap { $0.manifests! }, present: present, pruned: pruned) {
                find(.warning, gap)
            }
        }

        if readable.isEmpty {
            find(.critical, "no region could be read")
        } else if let newest {
            let age = now.timeIntervalSince(newest.consistentPoint.time)
            health.lastBackup = LastBackup(
                backupID: newest.backupID, startedAt: newest.startedAt, finishedAt: newest.finishedAt,
                consistentPoint: newest.consistentPoint.time, ageSeconds: age,
                regions: readable.filter { $0.manifests!.contains { $0.backupID == newest.backupID } }.map(\.region))
            var rpoMissed = false
            if let rpo = health.rpoSeconds, age > rpo {
                rpoMissed = true
                find(.critical, "last backup \(DurationText.short(age)) ago (rpo \(DurationText.short(rpo)))")
            }
            if let schedule = target.schedule, let due = schedule.next(after: newest.startedAt, in: target.timeZone) {
                let graceSeconds = grace.map { Double($0.components.seconds) }
                    ?? baseGrace + max(0, newest.finishedAt.timeIntervalSince(newest.startedAt))
                health.nextDue = due
                health.graceSeconds = graceSeconds
                if now > due.addingTimeInterval(graceSeconds) {
                    let secondMissed = schedule.next(after: due, in: target.timeZone)
                        .map { now > $0.addingTimeInterval(graceSeconds) } ?? false
                    let late = "last backup \(DurationText.short(age)) ago, the next was due \(Timestamp.format(due)) "
                        + "(schedule \"\(schedule.text)\", grace \(DurationText.short(graceSeconds)))"
                    if !rpoMissed { find(secondMissed && health.rpoSeconds == nil ? .critical : .warning, late) }
                }
            }
            if let failure = failures.filter({ $0.runID > newest.backupID }).last {
                health.lastFailure = LastFailure(runID: failure.runID, finishedAt: failure.finishedAt, error: failure.error)
                find(.warning, "the last backup run failed (\(Timestamp.format(failure.finishedAt))): \(failure.error)")
            }
        } else {
            find(.critical, "no backup in any region")
        }

        if let drill = drills.last {
            let age = now.timeIntervalSince(drill.startedAt)
            health.lastDrill = LastDrill(drillID: drill.drillID, result: drill.result.rawValue, startedAt: drill.startedAt,
                                         ageSeconds: age, reasons: drill.reasons)
            let why = drill.reasons.isEmpty ? "" : ": " + drill.reasons.joined(separator: "; ")
            switch drill.result {
            case .failed: find(.critical, "last drill failed \(DurationText.short(age)) ago\(why)")
            case .objectivesMissed: find(.warning, "last drill missed its objectives \(DurationText.short(age)) ago\(why)")
            case .passed: break
            }
        }
        if target.drill?.enabled == true {
            if let drill = drills.last {
                if now.timeIntervalSince(drill.startedAt) > drillInterval {
                    find(.warning, "no drill in 35 days (last \(DurationText.short(now.timeIntervalSince(drill.startedAt))) ago)")
                }
            } else {
                find(.warning, "no drill yet (drills are enabled)")
            }
        }
        health.status = health.findings.map(\.status).max() ?? .ok
        return health
    }

    /// One line for the summary: the worst finding, or the last backup's age when all is well.
    public var headline: String {
        if let worst = findings.first(where: { $0.status == status }) {
            let more = findings.count > 1 ? " (+\(findings.count - 1) more)" : ""
            return "\(target): \(worst.message)\(more)"
        }
        return "\(target): last backup \(lastBackup.map { DurationText.short($0.ageSeconds) } ?? "?") ago"
    }
}
