import Foundation

/// The result of one restore drill: what was restored, how long it took, what was checked,
/// and how that compares with the target's objectives. Written to every region after the
/// drill; the monthly report and `drctl check` are made from these records alone.
/// Schema: docs/FORMAT.md, "Drill record".
public struct DrillRecord: Codable, Sendable, Equatable {
    public static let formatName = "drctl-drill-record"
    /// The highest version this drctl reads; it writes 1 in a version 1 repository, else 2.
    public static let currentVersion = 2

    public var format: String = DrillRecord.formatName
    /// 1, or 2 when the record carries its `authentication` (`SignedDocuments.stored`).
    public var version: Int = 1
    /// Same form as a backup id: the drill's start time and random hex.
    public var drillID: String
    public var target: String
    public var kind: String
    public var tool: ToolInfo
    /// The backup restored; nil when the drill failed before one was chosen.
    public var backupID: String?
    /// The region that served the backup's bytes.
    public var region: String?
    public var startedAt: Date
    public var finishedAt: Date
    public var result: DrillResult
    /// Why the drill failed or missed its objectives; empty when it passed.
    public var reasons: [String]
    /// Drill start → verified, queryable instance. nil when it never got there.
    public var rtoSeconds: Double?
    /// Age, at drill start, of the newest point that could have been recovered
    /// (the newest backup's consistent point). nil when no backup exists.
    public var rpoSeconds: Double?
    /// The recovery point the drill restored (the backup's consistent point).
    public var recoveryPoint: Date?
    /// Bytes restored (before compression) and the rate over the restore phases.
    public var restoredBytes: UInt64
    public var throughputBytesPerSecond: Double?
    /// Timed phases in order. Streaming phases (fetch, decrypt+decompress, load) overlap in
    /// time; each carries the wall time the phase was busy.
    public var phases: [DrillPhase]
    public var checks: [DrillCheckResult]
    /// The objectives in force at drill time (seconds), copied so old records keep their meaning.
    public var objectives: DrillObjectives
    /// Version 2: the writer's signature and signer, as decoded; readers check the stored bytes.
    public var authentication: AuthenticationField?

    public init(drillID: String, target: String, kind: String, tool: ToolInfo, backupID: String?, region: String?,
                startedAt: Date, finishedAt: Date, result: DrillResult, reasons: [String], rtoSeconds: Double?,
                rpoSeconds: Double?, recoveryPoint: Date?, restoredBytes: UInt64, throughputBytesPerSecond: Double?,
                phases: [DrillPhase], checks: [DrillCheckResult], objectives: DrillObjectives) {
        self.drillID = drillID
        self.target = target
        self.kind = kind
        self.tool = tool
        self.backupID = backupID
        self.region = region
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.result = result
        self.reasons = reasons
        self.rtoSeconds = rtoSeconds
        self.rpoSeconds = rpoSeconds
        self.recoveryPoint = recoveryPoint
        self.restoredBytes = restoredBytes
        self.throughputBytesPerSecond = throughputBytesPerSecond
        self.phases = phases
        self.checks = checks
        self.objectives = objectives
    }

    public var id: BackupID? { BackupID(drillID) }

    enum CodingKeys: String, CodingKey {
        case format, version, target, kind, tool, region, result, reasons, phases, checks, objectives, authentication
        case drillID = "drill_id", backupID = "backup_id", startedAt = "started_at", finishedAt = "finished_at"
        case rtoSeconds = "rto_seconds", rpoSeconds = "rpo_seconds", recoveryPoint = "recovery_point"
        case restoredBytes = "restored_bytes", throughputBytesPerSecond = "throughput_bytes_per_second"
    }
}

public enum DrillResult: String, Codable, Sendable {
    /// Restored, every check passed, every objective met.
    case passed
    /// Restored and verified, but RTO or RPO was over its objective.
    case objectivesMissed = "objectives_missed"
    /// Not restored, or a check failed: this backup could not be trusted in an incident.
    case failed
}

public struct DrillPhase: Codable, Sendable, Equatable {
    /// `select`, `fetch`, `decrypt_decompress`, `start_instance`, `load`, `verify`, `teardown`.
    public var name: String
    public var seconds: Double

    public init(name: String, seconds: Double) {
        self.name = name
        self.seconds = seconds
    }
}

public struct DrillCheckResult: Codable, Sendable, Equatable {
    /// What was checked, for people: `rows public.orders`, `keys db0`, `sql: select count(*) ...`.
    public var name: String
    public var expected: String
    /// nil when the check could not run (the reason is in `error`).
    public var actual: String?
    public var passed: Bool
    public var error: String?

    public init(name: String, expected: String, actual: String?, passed: Bool, error: String? = nil) {
        self.name = name
        self.expected = expected
        self.actual = actual
        self.passed = passed
        self.error = error
    }
}

public struct DrillObjectives: Codable, Sendable, Equatable {
    public var rpoSeconds: Double?
    public var rtoSeconds: Double?

    public init(rpoSeconds: Double? = nil, rtoSeconds: Double? = nil) {
        self.rpoSeconds = rpoSeconds
        self.rtoSeconds = rtoSeconds
    }

    enum CodingKeys: String, CodingKey {
        case rpoSeconds = "rpo_seconds", rtoSeconds = "rto_seconds"
    }
}
