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
    /// Starts reading the source once the run holds the target's lock (a base backup's
    /// checkpoint); `objectNames` is known after it. Blocking.
    func begin(label: String) throws
    /// Called once every object was streamed, before `finished` (a base backup's end position).
    /// Blocking.
    func streamed() throws
    /// A physical base backup's positions and tablespaces (after `streamed`); nil for other kinds.
    var physical: PhysicalBackupInfo? { get }
}

extension BackupPlan {
    func database(of object: String) -> String? { nil }
    var warnings: [String] { [] }
    func begin(label: String) throws {}
    func streamed() throws {}
    var physical: PhysicalBackupInfo? { nil }
}

/// The plan for a target of the policy.
func makeBackupPlan(for target: TargetPolicy) throws -> BackupPlan {
    switch target.kind {
    case .command: return try CommandPlan(target: target)
    case .redis: return try RedisPlan(target: target)
    case .postgres:
        if target.mode == .physical { return try PostgresPhysicalPlan(target: target) }
        return try PostgresLogicalPlan(target: target)
    }
}
