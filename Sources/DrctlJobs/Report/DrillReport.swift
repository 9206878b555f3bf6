import Foundation
import DrctlStorage

/// The monthly drill report: for one month and each target, the objectives, every drill
/// against them, the backups taken, failed and degraded, storage per region and a 12-month
/// trend, under a one-line verdict. Made from repository records alone. Its JSON form
/// (`drctl report --format json`) is an output contract: docs/OPERATIONS.md, "JSON output contract".
public struct DrillReport: Codable, Sendable, Equatable {
    public static let formatName = "drctl-drill-report"
    public static let currentVersion = 1

    public var format = DrillReport.formatName
    public var version = DrillReport.currentVersion
    /// `YYYY-MM` (UTC).
    public var month: String
    /// The month's bounds: start inclusive, end exclusive.
    public var periodStart: Date
    public var periodEnd: Date
    public var generatedAt: Date
    /// One line: all targets met their objectives, or which did not and why.
    public var verdict: String
    /// True when every target met its objectives (and had drills, measured against objectives)
    /// in the month.
    public var ok: Bool
    public var targets: [TargetReport]
    /// Regions that could not be read: the history may be incomplete.
    public var unreadableRegions: [UnreadableRegion]

    enum CodingKeys: String, CodingKey {
        case format, version, month, verdict, ok, targets
        case periodStart = "period_start", periodEnd = "period_end", generatedAt = "generated_at"
        case unreadableRegions = "unreadable_regions"
    }
}

public struct UnreadableRegion: Codable, Sendable, Equatable {
    public var region: String
    public var error: String
}

/// How a target stands for the month, worst first.
public enum TargetStanding: String, Codable, Sendable, Comparable {
    /// At least one drill failed: a backup could not be restored or verified.
    case drillsFailed = "drills_failed"
    /// No drill in the month: recoverability is unproven.
    case noDrills = "no_drills"
    /// Drills restored and verified, but RTO or RPO over its objective.
    case objectivesMissed = "objectives_missed"
    /// Every drill passed, but none was measured against an RTO or RPO objective (none was set
    /// when it ran): the backups restore, in a time nobody judged.
    case noObjectives = "no_objectives"
    /// Every drill passed, measured against the objectives set when it ran.
    case met

    private var rank: Int {
        switch self {
        case .drillsFailed: 0
        case .noDrills: 1
        case .objectivesMissed: 2
        case .noObjectives: 3
        case .met: 4
        }
    }

    public static func < (lhs: TargetStanding, rhs: TargetStanding) -> Bool { lhs.rank < rhs.rank }
}

public struct TargetReport: Codable, Sendable, Equatable {
    public var name: String
    public var kind: String
    /// The policy's objectives now (each drill carries those in force when it ran).
    public var objectives: ReportObjectives
    public var drillEnabled: Bool
    public var standing: TargetStanding
    /// Why, in a few words: "missed its RTO objective (worst 41.2 s against 30 s)".
    public var verdict: String
    /// The report month's figures (the trend's last entry).
    public var summary: MonthSummary
    public var drills: [ReportDrill]
    public var backups: BackupTally
    public var storage: [RegionStorage]
    /// The 12 months ending with the report month, oldest first.
    public var trend: [MonthSummary]

    enum CodingKeys: String, CodingKey {
        case name, kind, objectives, standing, verdict, summary, drills, backups, storage, trend
        case drillEnabled = "drill_enabled"
    }
}

public struct ReportObjectives: Codable, Sendable, Equatable {
    public var rtoSeconds: Double?
    public var rpoSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case rtoSeconds = "rto_seconds", rpoSeconds = "rpo_seconds"
    }
}

/// One drill of the month, measured against the objectives in force when it ran.
public struct ReportDrill: Codable, Sendable, Equatable {
    public var drillID: String
    public var startedAt: Date
    public var backupID: String?
    public var region: String?
    public var result: DrillResult
    public var reasons: [String]
    public var rtoSeconds: Double?
    public var rtoObjectiveSeconds: Double?
    /// nil when there is no measurement or no objective to compare with.
    public var rtoMet: Bool?
    public var rpoSeconds: Double?
    public var rpoObjectiveSeconds: Double?
    public var rpoMet: Bool?
    public var restoredBytes: UInt64
    public var throughputBytesPerSecond: Double?

    enum CodingKeys: String, CodingKey {
        case region, result, reasons
        case drillID = "drill_id", startedAt = "started_at", backupID = "backup_id"
        case rtoSeconds = "rto_seconds", rtoObjectiveSeconds = "rto_objective_seconds", rtoMet = "rto_met"
        case rpoSeconds = "rpo_seconds", rpoObjectiveSeconds = "rpo_objective_seconds", rpoMet = "rpo_met"
        case restoredBytes = "restored_bytes", throughputBytesPerSecond = "throughput_bytes_per_second"
    }
}

/// The backups of the month: committed (complete or degraded, from the manifests) and failed
/// (from the failure records).
public struct BackupTally: Codable, Sendable, Equatable {
    public var taken: Int
    public var complete: Int
    public var degraded: Int
    public var failed: Int
    public var failures: [ReportFailure]
    public var degradedBackups: [String]

    enum CodingKeys: String, CodingKey {
        case taken, complete, degraded, failed, failures
        case degradedBackups = "degraded_backups"
    }
}

public struct ReportFailure: Codable, Sendable, Equatable {
    public var runID: String
    public var startedAt: Date
    public var error: String

    enum CodingKeys: String, CodingKey {
        case error
        case runID = "run_id", startedAt = "started_at"
    }
}

/// Storage one region holds for the target at the month's end: the backups started before
/// then whose manifest the region holds now, and the sum of their stored sizes.
public struct RegionStorage: Codable, Sendable, Equatable {
    public var region: String
    public var backups: Int?
    public var storedBytes: UInt64?
    /// Why the region could not be listed (then `backups` and `stored_bytes` are absent).
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case region, backups, error
        case storedBytes = "stored_bytes"
    }
}

/// One month of one target: drills, passes, worst and median RTO and RPO, backups.
public struct MonthSummary: Codable, Sendable, Equatable {
    public var month: String
    public var drills: Int
    public var passed: Int
    public var objectivesMissed: Int
    public var failed: Int
    public var worstRTOSeconds: Double?
    public var medianRTOSeconds: Double?
    public var worstRPOSeconds: Double?
    public var medianRPOSeconds: Double?
    public var backups: Int
    public var failedBackups: Int

    enum CodingKeys: String, CodingKey {
        case month, drills, passed, failed, backups
        case objectivesMissed = "objectives_missed"
        case worstRTOSeconds = "worst_rto_seconds", medianRTOSeconds = "median_rto_seconds"
        case worstRPOSeconds = "worst_rpo_seconds", medianRPOSeconds = "median_rpo_seconds"
        case failedBackups = "failed_backups"
    }
}
