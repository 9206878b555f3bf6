import Glibc
import Synchronization
import DrctlPipeline
import DrctlStorage

/// How long each streaming stage of a restore was busy: reading stored bytes (`fetch`),
/// authenticating, decrypting and decompressing them (`decrypt_decompress`), and handing them
/// to the destination (`load`). The stages run at once on threads of their own, so each is
/// the sum of the time its stage spent working, not waiting for its neighbours.
public final class RestoreTiming: Sendable {
    private let nanos = Mutex<(fetch: UInt64, decode: UInt64, load: UInt64)>((0, 0, 0))

    public init() {}

    public var fetchSeconds: Double { Double(nanos.withLock { $0.fetch }) / 1e9 }
    public var decryptDecompressSeconds: Double { Double(nanos.withLock { $0.decode }) / 1e9 }
    public var loadSeconds: Double { Double(nanos.withLock { $0.load }) / 1e9 }

    static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }

    func addFetch(_ value: UInt64) { nanos.withLock { $0.fetch += value } }
    func addDecode(_ value: UInt64) { nanos.withLock { $0.decode += value } }
    func addLoad(_ value: UInt64) { nanos.withLock { $0.load += value } }

    func source(_ inner: ByteSource) -> ByteSource { TimedSource(inner: inner, timing: self) }
    func filter(_ inner: StreamFilter) -> StreamFilter { TimedFilter(inner: inner, timing: self) }
    func sink(_ inner: ByteSink) -> ByteSink { TimedSink(inner: inner, timing: self) }
}

private final class TimedSource: ByteSource {
    let inner: ByteSource
    let timing: RestoreTiming

    init(inner: ByteSource, timing: RestoreTiming) {
        self.inner = inner
        self.timing = timing
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let start = RestoreTiming.now()
        defer { timing.addFetch(RestoreTiming.now() - start) }
        return try inner.read(into: buffer)
    }

    func finish() throws { try inner.finish() }
    func cancel() { inner.cancel() }
}

/// Counts the filter's own work: the time its `emit` spends blocked on the next stage is
/// taken out.
private final class TimedFilter: StreamFilter {
    let inner: StreamFilter
    let timing: RestoreTiming
    var name: String { inner.name }

    init(inner: StreamFilter, timing: RestoreTiming) {
        self.inner = inner
        self.timing = timing
    }

    func process(_ input: [UInt8], emit: ([UInt8]) throws -> Void) throws {
        try measured(emit) { try inner.process(input, emit: $0) }
    }

    func finish(emit: ([UInt8]) throws -> Void) throws {
        try measured(emit) { try inner.finish(emit: $0) }
    }

    private func measured(_ emit: ([UInt8]) throws -> Void, _ work: (([UInt8]) throws -> Void) throws -> Void) throws {
        let start = RestoreTiming.now()
        var waiting: UInt64 = 0
        defer { timing.addDecode(RestoreTiming.now() - start - waiting) }
        try withoutActuallyEscaping(emit) { emit in
            try work { piece in
                let blocked = RestoreTiming.now()
                defer { waiting += RestoreTiming.now() - blocked }
                try emit(piece)
            }
        }
    }
}

private final class TimedSink: ByteSink {
    let inner: ByteSink
    let timing: RestoreTiming

    init(inner: ByteSink, timing: RestoreTiming) {
        self.inner = inner
        self.timing = timing
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        let start = RestoreTiming.now()
        defer { timing.addLoad(RestoreTiming.now() - start) }
        try inner.write(bytes)
    }

    /// A program's sink (pg_restore) finishes its load here: that time is load too.
    func finish() throws {
        let start = RestoreTiming.now()
        defer { timing.addLoad(RestoreTiming.now() - start) }
        try inner.finish()
    }

    func abort() { inner.abort() }
}
