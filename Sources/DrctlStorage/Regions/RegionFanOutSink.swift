import DrctlPipeline

/// Writes one object to every live region at once: the backup reads its source once, however
/// many regions there are. Each region has its own thread and a bounded buffer of pieces
/// (`RegionWriter`), so the regions write in parallel and memory is `bufferedPieces` pieces per
/// region whatever the object's size (the pieces are shared between regions, not copied).
///
/// A region whose write fails, or that makes no progress for its `timeout`, is dropped (its
/// partial object aborted) while the others go on; below the quorum the whole write fails.
public final class RegionFanOutSink: ByteSink {
    /// Pieces buffered per region (pipeline pieces are up to 256 KiB: 2 MiB per region).
    public static let defaultBufferedPieces = 8
    /// How long `abort` waits for the regions' threads to remove their partial objects.
    static let abortGrace: Duration = .seconds(5)

    private let roster: RegionRoster
    private let key: String
    private var writers: [RegionWriter] = []

    public init(key: String, roster: RegionRoster, bufferedPieces: Int = RegionFanOutSink.defaultBufferedPieces) throws {
        self.key = key
        self.roster = roster
        for region in roster.alive {
            do {
                writers.append(try RegionWriter(region: region, key: key, capacity: bufferedPieces))
            } catch {
                roster.drop(region, because: error)
            }
        }
        for writer in writers { writer.start() }
        do {
            try roster.checkQuorum()
        } catch {
            abort()
            throw error
        }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try write(piece: [UInt8](bytes))
    }

    /// The same piece goes to every region: arrays are shared, not copied.
    public func write(piece: [UInt8]) throws {
        var index = 0
        while index < writers.count {
            if let error = writers[index].offer(piece) {
                drop(at: index, because: error)
            } else {
                index += 1
            }
        }
        try roster.checkQuorum()
    }

    /// Every region commits at once; waits for each (or for its stall timeout). Below the quorum
    /// the objects that were committed are deleted again.
    public func finish() throws {
        for writer in writers { writer.close() }
        var index = 0
        while index < writers.count {
            if let error = writers[index].awaitCommit() {
                drop(at: index, because: error)
            } else {
                index += 1
            }
        }
        do {
            try roster.checkQuorum()
        } catch {
            for writer in writers { try? writer.region.store.delete(key) }
            writers.removeAll()
            throw error
        }
    }

    /// Stops every region and waits (briefly) for their partial objects to be removed.
    public func abort() {
        for writer in writers { writer.cancel() }
        let deadline = ContinuousClock.now + Self.abortGrace
        for writer in writers { writer.awaitEnd(before: deadline) }
        writers.removeAll()
    }

    /// The regions that hold the committed object.
    public var regions: [Region] { writers.map(\.region) }

    private func drop(at index: Int, because error: Error) {
        writers[index].cancel()
        roster.drop(writers[index].region, because: error)
        writers.remove(at: index)
    }
}
