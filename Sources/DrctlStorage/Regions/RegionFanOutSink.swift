import DrctlPipeline

/// Writes one object to every live region at once: the backup reads its source once,
/// however many regions there are. A region whose write fails is dropped (and its partial
/// object discarded) while the others go on; below the quorum the whole write fails.
public final class RegionFanOutSink: ByteSink {
    private let roster: RegionRoster
    private let key: String
    private var writers: [(region: Region, writer: ObjectWriter)] = []

    public init(key: String, roster: RegionRoster) throws {
        self.key = key
        self.roster = roster
        for region in roster.alive {
            do {
                writers.append((region, try region.store.create(key)))
            } catch {
                roster.drop(region, because: error)
            }
        }
        try roster.checkQuorum()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try forEachWriter { try $0.write(bytes) }
    }

    public func finish() throws {
        try forEachWriter { try $0.commit() }
    }

    public func abort() {
        for entry in writers { entry.writer.abort() }
        writers.removeAll()
    }

    /// The regions that hold the committed object.
    public var regions: [Region] { writers.map(\.region) }

    private func forEachWriter(_ body: (ObjectWriter) throws -> Void) throws {
        var index = 0
        while index < writers.count {
            do {
                try body(writers[index].writer)
                index += 1
            } catch {
                writers[index].writer.abort()
                roster.drop(writers[index].region, because: error)
                writers.remove(at: index)
            }
        }
        try roster.checkQuorum()
    }
}
