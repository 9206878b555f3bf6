import DrctlPipeline
import Synchronization

/// Connects a signal handler (SIGINT, SIGTERM) to whichever pipeline is running: the
/// pipeline stops every stage, the sink discards its partial objects, and the job cleans up
/// as for any other failure.
public final class Interruption: Sendable {
    private let state = Mutex<(pipeline: Pipeline?, signal: String?)>((nil, nil))

    public init() {}

    /// The first signal received, if any.
    public var signal: String? { state.withLock { $0.signal } }

    /// Stops the running pipeline (and any started later) with `JobError.interrupted`.
    public func interrupt(signal: String) {
        let pipeline = state.withLock { state -> Pipeline? in
            state.signal = state.signal ?? signal
            return state.pipeline
        }
        pipeline?.stop(because: JobError.interrupted(signal: signal))
    }

    func running<T>(_ pipeline: Pipeline, _ body: () async throws -> T) async throws -> T {
        let signal = state.withLock { state -> String? in
            state.pipeline = pipeline
            return state.signal
        }
        defer { state.withLock { $0.pipeline = nil } }
        // A signal that came before the pipeline existed stops it now, through the same path
        // as any failure: the source (a child program) is stopped, the sink aborted.
        if let signal { pipeline.stop(because: JobError.interrupted(signal: signal)) }
        return try await body()
    }
}
