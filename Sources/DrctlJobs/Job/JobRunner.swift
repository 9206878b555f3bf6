/// Runs jobs, for the CLI and the agent alike: a command is parse → `JobRunner.run` → print, and
/// a scheduled task is the same job through the same runner. A `BlockingJob` leaves Swift's
/// shared threads here (its `run(in:)`), so no caller wraps one by hand.
public struct JobRunner: Sendable {
    public let context: JobContext

    public init(_ context: JobContext) {
        self.context = context
    }

    public func run<J: Job>(_ job: J) async throws -> J.Outcome {
        try await job.run(in: context)
    }
}

extension JobRunner {
    public func run<J: InfallibleJob>(_ job: J) async -> J.Outcome {
        await job.run(in: context)
    }
}
