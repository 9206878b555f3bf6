import Foundation
import DrctlPipeline
import DrctlPolicy
import DrctlStorage

/// What one backup of a target reads: the objects it streams, in order, and what goes into the
/// manifest about the source. One type per target kind; `BackupJob` does the rest (pipeline,
/// regions, commit) the same way for all of them.
protocol BackupPlan: AnyObject {
    /// The manifest's `kind`.
    var kind: String { get }
    /// The objects of the backup, in the order they are streamed.
    var objectNames: [String] { get }
    /// The database an object holds (PostgreSQL archives), recorded in the manifest.
    func database(of object: String) -> String?
    /// Starts reading one object; called just before its pipeline runs.
    func source(for object: String) throws -> ByteSource
    /// Called once every object was read: the point the data reflects, and the source facts.
    func finished(startedAt: Date) -> (ConsistentPoint, SourceFacts)
    /// Facts that could not be gathered (the backup itself is good): logged as warnings.
    var warnings: [String] { get }
}

extension BackupPlan {
    func database(of object: String) -> String? { nil }
    var warnings: [String] { [] }
}

/// The plan for a target of the policy.
func makeBackupPlan(for target: TargetPolicy) throws -> BackupPlan {
    switch target.kind {
    case .command: return try CommandPlan(target: target)
    case .redis: return try RedisPlan(target: target)
    case .postgres:
        guard target.mode != .physical else {
            throw JobError.unsupportedKind(target: target.name, kind: "postgres (mode: physical)")
        }
        return try PostgresLogicalPlan(target: target)
    }
}
