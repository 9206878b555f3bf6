import Foundation

/// What one `prune` run removed from a version 2 repository: the backups and the SHA-256 of
/// their manifests, signed by the pruning host and written to every region before anything is
/// removed there. A backup missing from a target's chain of signed manifests is then either
/// explained by one of these or a deletion nobody signed for (docs/FORMAT.md, "Prune record").
/// Version 2 only: a version 1 repository gets none.
public struct PruneRecord: Codable, Sendable, Equatable {
    public static let formatName = "drctl-prune-record"
    public static let currentVersion = 2

    public var format: String = PruneRecord.formatName
    public var version: Int = PruneRecord.currentVersion
    /// The prune run's id (its start time and random hex), as its lock's owner names it.
    public var runID: String
    public var target: String
    public var tool: ToolInfo
    /// When the run started and when it wrote this record (just before its first removal).
    public var startedAt: Date
    public var writtenAt: Date
    /// The backups this run removes, oldest first.
    public var removed: [BackupReference]
    /// The writer's signature and signer, as decoded; readers check the stored bytes.
    public var authentication: AuthenticationField?

    public init(runID: String, target: String, tool: ToolInfo, startedAt: Date, writtenAt: Date, removed: [BackupReference]) {
        self.runID = runID
        self.target = target
        self.tool = tool
        self.startedAt = startedAt
        self.writtenAt = writtenAt
        self.removed = removed
    }

    enum CodingKeys: String, CodingKey {
        case format, version, target, tool, removed, authentication
        case runID = "run_id", startedAt = "started_at", writtenAt = "written_at"
    }
}

extension PruneRecord: RepositoryRecord {
    public static let folder = "prunes"
    public static let documentKind = DocumentKind.pruneRecord
    public var recordID: String { runID }

    /// Written in the future it would explain deletions yet to come; drctl writes prune records
    /// only signed (version 2).
    public func violation(now: Date) -> String? {
        guard version >= 2 else { return "drctl writes prune records only as version 2 (signed)" }
        guard let id = BackupID(runID) else { return "its id '\(runID)' is not a drctl id" }
        return ReaderRules.futureTime([("id", id.startedAt), ("started_at", startedAt), ("written_at", writtenAt)], now: now)
    }
}

extension Repository {
    /// `target`'s prune records over every readable region whose signature verifies (those that
    /// do not are in `refused`, named), oldest first.
    public func pruneRecords(target: String) -> MergedRecords<PruneRecord> {
        mergedRecords(PruneRecord.self, target: target)
    }
}
