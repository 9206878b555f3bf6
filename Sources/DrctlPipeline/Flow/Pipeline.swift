import Foundation
import Synchronization

/// Bytes from a source through a list of filters into a sink, one dedicated thread per stage,
/// bounded queues between them.
///
/// Blocking C work (pipe reads, zstd, AES-GCM, file writes) happens on these threads, never on
/// Swift's cooperative pool; `run()` awaits their end through a continuation. The first stage
/// to fail stops every other stage, the source is cancelled and the sink aborted: nothing that
/// failed half way is left looking finished.
public final class Pipeline: Sendable {
    /// Bytes the source produced (the raw size of a backup).
    public let bytesRead = ByteCounter()
    /// Bytes the sink accepted (the stored size of a backup).
    public let bytesWritten = ByteCounter()

    private let stages: Stages
    private let readSize: Int
    private let queueDepth: Int
    private let state = Mutex<RunState>(RunState())
    /// Stages still running. The last to end hands the run over to `run()`'s caller, through
    /// this count's acquiring-releasing decrements: what every stage wrote (a sink's result,
    /// such as `ArchiveHead`'s, read once `run()` returns) happens before the caller reads it.
    private let running = Atomic<Int>(0)

    /// - Parameters:
    ///   - readSize: bytes per read from the source, and so the size of most queued pieces.
    ///     256 KiB pieces stay in a core's cache between stages (scripts/bench-pipeline.sh
    ///     measured 1 MiB pieces about 10% slower).
    ///   - queueDepth: pieces each queue holds; memory in flight ≈ (filters + 1) × depth × piece.
    public init(source: ByteSource, filters: [StreamFilter], sink: ByteSink,
                readSize: Int = 256 << 10, queueDepth: Int = 8) {
        self.stages = Stages(source: source, filters: filters, sink: sink)
        self.readSize = readSize
        self.queueDepth = queueDepth
    }

    /// Runs the pipeline to its end. Throws the first stage's error (a cancelled task throws
    /// `CancellationError`); the sink has then been aborted.
    public func run() async throws {
        try await withTaskCancellationHandler {
            let failure: Error? = await withCheckedContinuation { continuation in
                start { continuation.resume(returning: $0) }
            }
            // Pairs with the stages' decrements of `running`: the continuation orders this too,
            // but not where ThreadSanitizer can see it when the last stage resumed it before
            // this task had suspended (the concurrency runtime's own atomics).
            _ = running.load(ordering: .acquiring)
            if let failure { throw failure }
        } onCancel: {
            self.stop(because: CancellationError())
        }
    }

    /// Stops every stage as if one had failed with `error` (e.g. on SIGTERM).
    public func stop(because error: Error) {
        let queues = state.withLock { state -> [BoundedQueue<[UInt8]>] in
            if state.failure == nil { state.failure = error }
            return state.queues
        }
        for queue in queues { queue.fail(PipelineStopped()) }
        stages.source.cancel()
    }

    private func start(completion: @escaping @Sendable (Error?) -> Void) {
        let filters = stages.filters
        let queues = (0...filters.count).map { _ in BoundedQueue<[UInt8]>(capacity: queueDepth) }
        running.store(filters.count + 2, ordering: .relaxed)   // before any stage thread starts
        let alreadyStopped = state.withLock { state -> Bool in
            state.queues = queues
            state.completion = completion
            return state.failure != nil
        }
        if alreadyStopped { for queue in queues { queue.fail(PipelineStopped()) } }

        spawn("drctl-source") { try self.pumpSource(into: queues[0]) }
        for index in filters.indices {
            spawn("drctl-\(filters[index].name)") {
                try Self.pump(self.stages.filters[index], from: queues[index], to: queues[index + 1])
            }
        }
        let last = queues[filters.count]
        spawn("drctl-sink") { try self.drain(last) }
    }

    private func spawn(_ name: String, _ body: @escaping @Sendable () throws -> Void) {
        let thread = Thread {
            do {
                try body()
            } catch {
                self.stageFailed(error)
            }
            self.stageEnded()
        }
        thread.name = name
        thread.start()
    }

    private func pumpSource(into queue: BoundedQueue<[UInt8]>) throws {
        let source = stages.source
        var sinceTrim = 0
        while true {
            var filled = 0
            // Fill whole pieces: a pipe hands out at most 64 KiB per read.
            let piece = try [UInt8](unsafeUninitializedCapacity: readSize) { buffer, count in
                let raw = UnsafeMutableRawBufferPointer(buffer)
                while filled < readSize {
                    let got = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[filled...]))
                    if got == 0 { break }
                    filled += got
                }
                count = filled
            }
            if filled == 0 { break }
            bytesRead.add(filled)
            sinceTrim += filled
            if sinceTrim >= MallocSettings.trimInterval {
                sinceTrim = 0
                MallocSettings.trim()
            }
            try queue.push(piece)
        }
        try source.finish()
        queue.close()
    }

    private static func pump(_ filter: StreamFilter, from input: BoundedQueue<[UInt8]>,
                             to output: BoundedQueue<[UInt8]>) throws {
        let emit: ([UInt8]) throws -> Void = { piece in
            if !piece.isEmpty { try output.push(piece) }
        }
        while let piece = try input.pop() {
            try filter.process(piece, emit: emit)
        }
        try filter.finish(emit: emit)
        output.close()
    }

    private func drain(_ queue: BoundedQueue<[UInt8]>) throws {
        let sink = stages.sink
        while let piece = try queue.pop() {
            try sink.write(piece: piece)
            bytesWritten.add(piece.count)
        }
        // Every upstream stage closed its output only after its own finish() succeeded,
        // so reaching this point means the whole stream is good.
        try sink.finish()
    }

    private func stageFailed(_ error: Error) {
        // A stage woken by another's failure throws PipelineStopped: not the cause.
        if error is PipelineStopped { return }
        stop(because: error)
    }

    private func stageEnded() {
        guard running.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 else { return }
        let finished = state.withLock { state -> (@Sendable (Error?) -> Void, Error?)? in
            guard let completion = state.completion else { return nil }
            state.completion = nil
            return (completion, state.failure)
        }
        guard let (completion, failure) = finished else { return }
        if failure != nil { stages.sink.abort() }
        // The pieces are freed; give back what MallocSettings keeps for reuse while streaming.
        MallocSettings.trim()
        completion(failure)
    }
}

/// Thrown inside stages that were stopped because another stage failed.
struct PipelineStopped: Error {}

private struct RunState {
    var failure: Error?
    var queues: [BoundedQueue<[UInt8]>] = []
    var completion: (@Sendable (Error?) -> Void)?
}

/// The stage objects, each touched by exactly one pipeline thread (plus `cancel`/`abort`,
/// which are documented as callable from another thread).
// unchecked: immutable; each stage is used by its one pipeline thread (the stage protocols are not Sendable).
private final class Stages: @unchecked Sendable {
    let source: ByteSource
    let filters: [StreamFilter]
    let sink: ByteSink

    init(source: ByteSource, filters: [StreamFilter], sink: ByteSink) {
        self.source = source
        self.filters = filters
        self.sink = sink
    }
}
