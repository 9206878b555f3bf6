import Foundation

/// One region's side of a fan-out (`RegionFanOutSink`): a dedicated thread takes pieces from a
/// bounded buffer and writes them into the region's `ObjectWriter`, then commits or aborts it.
///
/// The blocking I/O (libcurl, write, fsync) runs on that thread, so a slow region holds the
/// others up only once its buffer is full, and a stalled one is noticed: `offer` and
/// `awaitCommit` give up on a region whose writer made no progress for the region's timeout.
/// Progress is a piece taken from the buffer, a write returning, the writer waiting idle for
/// more, or (for a `StallAwareWriter`) bytes reaching the backend during a call.
// unchecked: every `var` is guarded by `condition` (an NSCondition, for its waits).
final class RegionWriter: @unchecked Sendable {
    let region: Region
    private let writer: ObjectWriter
    private let key: String
    private let capacity: Int
    /// Seconds without progress before the region is given up; nil: never.
    private let timeout: Double?
    private let condition = NSCondition()

    // Guarded by `condition`.
    private var pieces: [[UInt8]] = []
    /// No more pieces will come: commit once the buffer is drained.
    private var closed = false
    private var cancelled = false
    /// The writer's own error (after which it was aborted).
    private var failure: Error?
    private var committed = false
    private var ended = false
    private var lastProgress = ContinuousClock.now

    /// - Parameter capacity: pieces buffered for this region (the fan-out's memory per region).
    init(region: Region, key: String, capacity: Int) throws {
        precondition(capacity > 0)
        self.region = region
        self.key = key
        self.capacity = capacity
        self.writer = try region.store.create(key)
        self.timeout = region.timeout.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 }
        if let observed = writer as? StallAwareWriter {
            observed.observeProgress { [weak self] in self?.madeProgress() }
        }
    }

    /// Starts the region's thread.
    func start() {
        let thread = Thread { self.run() }
        thread.name = "drctl-region-\(region.name)"
        thread.start()
    }

    /// Hands the region a piece; waits while its buffer is full. Returns why the region must be
    /// dropped (its write failed, or it stalled past its timeout), or nil once the piece is queued.
    func offer(_ piece: [UInt8]) -> Error? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let failure { return failure }
            if ended || cancelled { return RegionWriterGone(region: region.name) }
            if pieces.count < capacity {
                pieces.append(piece)
                condition.broadcast()
                return nil
            }
            if let stalled = waitForProgress() { return stalled }
        }
    }

    /// Tells the region the stream is complete, so that it commits once its buffer is written.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for the commit (after `close`). Returns why the region must be dropped, or nil when
    /// the object is committed.
    func awaitCommit() -> Error? {
        condition.lock()
        defer { condition.unlock() }
        while !ended {
            if let stalled = waitForProgress() { return stalled }
        }
        return committed ? nil : (failure ?? RegionWriterGone(region: region.name))
    }

    /// Stops the region: what is buffered is discarded, a blocked request is cut short (for a
    /// `StallAwareWriter`), and the thread aborts the writer (removing the partial object).
    /// Does not wait: a stalled region's thread may take a while to get its abort through.
    func cancel() {
        condition.lock()
        cancelled = true
        pieces.removeAll()
        condition.broadcast()
        condition.unlock()
        (writer as? StallAwareWriter)?.cancel()
    }

    /// Waits until the thread ended, at most until `deadline`; true when it did.
    @discardableResult
    func awaitEnd(before deadline: ContinuousClock.Instant) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !ended {
            let now = ContinuousClock.now
            if now >= deadline { return false }
            _ = condition.wait(until: Date(timeIntervalSinceNow: Self.seconds(now.duration(to: deadline))))
        }
        return true
    }

    // MARK: The region's thread

    private func run() {
        while let piece = nextPiece() {
            do {
                try piece.withUnsafeBytes { try writer.write($0) }
                madeProgress()
            } catch {
                end(failing: error)
                return
            }
        }
        condition.lock()
        let stop = cancelled
        condition.unlock()
        if stop {
            end(failing: nil)
            return
        }
        do {
            try writer.commit()
        } catch {
            end(failing: error)
            return
        }
        condition.lock()
        committed = !cancelled
        ended = true
        condition.broadcast()
        condition.unlock()
    }

    /// The next piece; nil when the stream is complete (closed and drained) or cancelled.
    private func nextPiece() -> [UInt8]? {
        condition.lock()
        defer { condition.unlock() }
        while pieces.isEmpty && !closed && !cancelled {
            lastProgress = .now   // waiting for the source is not a stall
            condition.wait()
        }
        if cancelled || pieces.isEmpty { return nil }
        lastProgress = .now
        condition.broadcast()
        return pieces.removeFirst()
    }

    /// Aborts the writer (on this thread: writers are not thread-safe), then makes the failure
    /// visible, so that the fan-out sees a failed region only once its partial object is gone.
    private func end(failing error: Error?) {
        writer.abort()
        condition.lock()
        if let error, !cancelled { failure = error }
        ended = true
        condition.broadcast()
        condition.unlock()
    }

    private func madeProgress() {
        condition.lock()
        lastProgress = .now
        condition.unlock()
    }

    /// Waits (lock held) for any change; returns the stall error once the timeout has passed
    /// since the last progress.
    private func waitForProgress() -> Error? {
        guard let timeout else {
            condition.wait()
            return nil
        }
        let deadline = lastProgress + .nanoseconds(Int64(timeout * 1e9))
        let now = ContinuousClock.now
        if now >= deadline { return RegionStalled(region: region.name, seconds: timeout) }
        _ = condition.wait(until: Date(timeIntervalSinceNow: Self.seconds(now.duration(to: deadline))))
        return nil
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// A region made no progress for its policy `timeout` and was dropped from the backup.
public struct RegionStalled: Error, CustomStringConvertible {
    public let region: String
    public let seconds: Double

    public var description: String {
        "region '\(region)' made no progress for \(String(format: "%g", seconds)) s (its timeout): dropped from this backup"
    }
}

/// A region's writer ended without a result of its own (it was cancelled).
struct RegionWriterGone: Error, CustomStringConvertible {
    let region: String
    var description: String { "region '\(region)': its writer was stopped" }
}
