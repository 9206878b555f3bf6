/// One job drctl runs (a backup, a restore, a prune, …), one-shot (`drctl …`) or scheduled (the
/// agent): what is particular to it (the target, the backup, the flags) is its own; what every
/// job shares (policy, keys, logger, interruption, progress) comes with the run's `JobContext`.
/// Run it through `JobRunner`, the way the CLI and the agent both do.
public protocol Job: Sendable {
    /// What a run yields, for its caller to print or serve (a manifest, a report, a record).
    associatedtype Outcome: Sendable

    /// Runs the job. A job whose steps block (libpq, storage listings and deletes, waiting for a
    /// program) runs them through `OffPool`, never on Swift's shared threads; a job that
    /// blocks from start to end is a `BlockingJob` instead.
    func run(in context: JobContext) async throws -> Outcome
}

/// A job whose whole body blocks its thread (storage listings, reads and deletes): `JobRunner`
/// runs it on a thread of its own, so callers never wrap it by hand.
public protocol BlockingJob: Job {
    associatedtype Outcome
    func runBlocking(in context: JobContext) throws -> Outcome
}

extension BlockingJob {
    public func run(in context: JobContext) async throws -> Outcome {
        try await OffPool.run { try runBlocking(in: context) }
    }
}

/// A job that always yields its outcome, a failure included: a drill's record says what went
/// wrong (`DrillRecord.reasons`), and its caller decides what a failed drill means.
public protocol InfallibleJob: Job {
    func run(in context: JobContext) async -> Outcome
}
