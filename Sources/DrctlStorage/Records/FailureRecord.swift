import DrctlCrypto
import Foundation

/// A backup that did not commit: no manifest exists for it, so without this record the
/// report could not count it and `drctl check` could not name the last error. Written
/// best-effort to every region that accepts it; never blocks or changes the run's exit.
/// Schema: docs/FORMAT.md, "Failure record".
public struct FailureRecord: Codable, Sendable, Equatable {
    public static let formatName = "drctl-failure-record"
    /// The highest version this drctl reads; it writes 1 in a version 1 repository, else 2.
    public static let currentVersion = 2

    public var format: String = FailureRecord.formatName
    /// 1, or 2 when the record carries its `authentication` (`SignedDocuments.stored`).
    public var version: Int = 1
    /// The id the backup would have had.
    public var runID: String
    public var target: String
    public var kind: String
    public var tool: ToolInfo
    public var startedAt: Date
    public var finishedAt: Date
    /// The first line of the message the operator saw, at most `errorLimit` characters: the
    /// message quotes a program's stderr, which may hold connection strings, passwords or data,
    /// and the record is kept for as long as the repository. Records written before issue #22
    /// hold the whole message.
    public var error: String
    /// SHA-256 (hex) of the whole message, which drctl's log shows (its `backup failed` line), so
    /// the two can be matched; nil in records written before issue #22.
    public var errorSHA256: String?
    /// The regions that were still taking part when the run failed.
    public var regions: [String]
    /// Version 2: the writer's signature and signer, as decoded; readers check the stored bytes.
    public var authentication: AuthenticationField?

    /// Characters `error` keeps, the `…` that marks a cut included.
    public static let errorLimit = 200

    /// - Parameter error: the whole message; the record keeps its first line and its digest.
    public init(runID: String, target: String, kind: String, tool: ToolInfo, startedAt: Date, finishedAt: Date,
                error: String, regions: [String]) {
        self.runID = runID
        self.target = target
        self.kind = kind
        self.tool = tool
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.error = Self.firstLine(of: error)
        errorSHA256 = hex(sha256(Array(error.utf8)))
        self.regions = regions
    }

    /// The first line of `message`, cut to `errorLimit` characters; `…` ends it when anything
    /// was left out.
    static func firstLine(of message: String) -> String {
        let trimmed = message.trimmingCharacters(in: .whitespacesAndNewlines)
        let line = trimmed.prefix { !$0.isNewline }
        let kept = line.count > errorLimit || (line.count == errorLimit && line.endIndex < trimmed.endIndex)
            ? line.prefix(errorLimit - 1) : line
        return kept.endIndex < trimmed.endIndex ? kept.trimmingCharacters(in: .whitespaces) + "…" : String(kept)
    }

    enum CodingKeys: String, CodingKey {
        case format, version, target, kind, tool, error, regions, authentication
        case runID = "run_id", startedAt = "started_at", finishedAt = "finished_at", errorSHA256 = "error_sha256"
    }
}
