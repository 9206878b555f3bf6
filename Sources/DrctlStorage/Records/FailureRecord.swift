import Foundation

/// A backup that did not commit: no manifest exists for it, so without this record the
/// report could not count it and `drctl check` could not name the last error. Written
/// best-effort to every region that accepts it; never blocks or changes the run's exit.
/// Schema: docs/FORMAT.md, "Failure record".
public struct FailureRecord: Codable, Sendable, Equatable {
    public static let formatName = "drctl-failure-record"
    public static let currentVersion = 1

    public var format: String = FailureRecord.formatName
    public var version: Int = FailureRecord.currentVersion
    /// The id the backup would have had.
    public var runID: String
    public var target: String
    public var kind: String
    public var tool: ToolInfo
    public var startedAt: Date
    public var finishedAt: Date
    /// The message the operator saw.
    public var error: String
    /// The regions that were still taking part when the run failed.
    public var regions: [String]

    public init(runID: String, target: String, kind: String, tool: ToolInfo, startedAt: Date, finishedAt: Date,
                error: String, regions: [String]) {
        self.runID = runID
        self.target = target
        self.kind = kind
        self.tool = tool
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.error = error
        self.regions = regions
    }

    enum CodingKeys: String, CodingKey {
        case format, version, target, kind, tool, error, regions
        case runID = "run_id", startedAt = "started_at", finishedAt = "finished_at"
    }
}
