import DrctlPipeline
import Synchronization

/// Connects a signal handler (SIGINT, SIGTERM) to whichever pipelines are running (the agent
/// runs several targets at once): each pipeline stops every stage, the sink discards its
/// partial objects, and the job cleans up as for any other failure.
public final class Interruption: Sendable {
    private let state = Mutex<(pipelines: [ObjectIdentifier: Pipeline], signal: String?)>(([:], nil))

    public init() {}

    /// The first signal received, if any.
    public var signal: String? { state.withLock { $0.signal } }

    /// Stops the running pipelines (and any started later) with `JobError.interrupted`.
    public func interrupt(signal: String) {
        let pipelines = state.withLock { state -> [Pipeline] in
            state.signal = state.signal ?? signal
            return Array(state.pipelines.values)
        }
        for pipeline in pipelines { pipeline.stop(because: JobError.interrupted(signal: signal)) }
    }

    func running<T>(_ pipeline: Pipeline, _ body: () async throws -> T) async throws -> T {
        let key = ObjectIdentifier(pipeline)
        let signal = state.withLock { state -> String? in
            state.pipelines[key] = pipeline
            return state.signal
        }
        defer { state.withLock { _ = $0.pipelines.removeValue(forKey: key) } }
        // A signal that came before the pipeline existed stops it now, through the same path
        // as any failure: the source (a child program) is stopped, the sink aborted.
        if let signal { pipeline.stop(because: JobError.interrupted(signal: signal)) }
        return try await body()
    }
}
