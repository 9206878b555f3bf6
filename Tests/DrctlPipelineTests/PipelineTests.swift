import Foundation
import Testing
import DrctlCrypto
@testable import DrctlPipeline

@Suite struct PipelineTests {
    let key = DataKey.random()
    let context = StreamContext(backupID: "20261122T000000Z-abcdef", objectName: "stdout")

    func seal(_ input: [UInt8], chunkSize: Int = 1 << 16) async throws -> [UInt8] {
        let sink = MemorySink()
        let pipeline = Pipeline(source: MemorySource(input),
                                filters: [try ZstdCompressor(level: 3, threads: 2),
                                          SealFilter(dataKey: key, context: context, chunkSize: chunkSize)],
                                sink: sink, readSize: 1 << 16, queueDepth: 2)
        try await pipeline.run()
        #expect(sink.finished && !sink.aborted)
        #expect(pipeline.bytesRead.total == UInt64(input.count))
        return sink.bytes
    }

    func open(_ sealed: [UInt8]) async throws -> [UInt8] {
        let sink = MemorySink()
        let pipeline = Pipeline(source: MemorySource(sealed),
                                filters: [OpenFilter(dataKey: key, expected: context), try ZstdDecompressor()],
                                sink: sink, readSize: 1 << 16, queueDepth: 2)
        try await pipeline.run()
        return sink.bytes
    }

    @Test(arguments: [0, 1, 65535, 65536, 65537, 1_000_000])
    func roundTrip(size: Int) async throws {
        let input = sampleBytes(size)
        let sealed = try await seal(input)
        #expect(try await open(sealed) == input)
    }

    /// Sealing alone, so the sizes land exactly on the sealed stream's chunk boundaries.
    @Test(arguments: [0, 1, 4095, 4096, 4097, 3 * 4096])
    func sealOnlyAtChunkBoundaries(size: Int) async throws {
        let input = sampleBytes(size, seed: UInt64(size))
        let sealedSink = MemorySink()
        try await Pipeline(source: MemorySource(input, step: 1000),
                           filters: [SealFilter(dataKey: key, context: context, chunkSize: 4096)],
                           sink: sealedSink, readSize: 3000).run()
        let openedSink = MemorySink()
        try await Pipeline(source: MemorySource(sealedSink.bytes, step: 777),
                           filters: [OpenFilter(dataKey: key, expected: context)],
                           sink: openedSink, readSize: 5000).run()
        #expect(openedSink.bytes == input)
    }

    @Test func digestFilterRecordsAndChecks() async throws {
        let input = sampleBytes(300_000)
        let digest = DigestFilter()
        try await Pipeline(source: MemorySource(input), filters: [digest], sink: MemorySink()).run()
        let expected = SHA256Digest()
        input.withUnsafeBytes { expected.update($0) }
        #expect(digest.sha256 == expected.finalizeHex())
        #expect(digest.byteCount == 300_000)

        let checking = DigestFilter(expecting: .init(sha256: String(repeating: "0", count: 64), size: 300_000, object: "obj"))
        let sink = MemorySink()
        await #expect(throws: IntegrityError.self) {
            try await Pipeline(source: MemorySource(input), filters: [checking], sink: sink).run()
        }
        #expect(sink.aborted && !sink.finished)
    }

    @Test func failingSourceAbortsTheSink() async throws {
        let sink = MemorySink()
        let pipeline = Pipeline(source: MemorySource(sampleBytes(1_000_000), failAt: 300_000),
                                filters: [try ZstdCompressor(level: 3, threads: 0)], sink: sink, readSize: 100_000)
        await #expect(throws: TestFailure("source broke at 300000")) { try await pipeline.run() }
        #expect(sink.aborted && !sink.finished)
    }

    @Test func failingSinkStopsTheSource() async throws {
        let source = MemorySource(sampleBytes(5_000_000), step: 10_000)
        let sink = MemorySink(failAfter: 100_000)
        let pipeline = Pipeline(source: source, filters: [], sink: sink, readSize: 10_000, queueDepth: 2)
        await #expect(throws: TestFailure("sink full")) { try await pipeline.run() }
        #expect(sink.aborted)
        #expect(source.cancelled)
        // Bounded queues: the source cannot have run far ahead of the failed sink.
        #expect(source.offset < 500_000, "source read \(source.offset) bytes")
    }

    @Test func cancellingTheTaskStopsAHangingSource() async throws {
        let source = HangingSource()
        let sink = MemorySink()
        let task = Task { try await Pipeline(source: source, filters: [], sink: sink).run() }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(source.cancelled && sink.aborted)
    }

    @Test func stopNamesTheCause() async throws {
        let source = HangingSource()
        let pipeline = Pipeline(source: source, filters: [], sink: MemorySink())
        Task {
            try await Task.sleep(for: .milliseconds(100))
            pipeline.stop(because: TestFailure("SIGTERM"))
        }
        await #expect(throws: TestFailure("SIGTERM")) { try await pipeline.run() }
    }

    @Test func decompressorRejectsTruncatedAndGarbage() async throws {
        let compressedSink = MemorySink()
        try await Pipeline(source: MemorySource(sampleBytes(200_000)), filters: [try ZstdCompressor(level: 3, threads: 1)],
                           sink: compressedSink).run()
        let truncated = Array(compressedSink.bytes.dropLast(10))
        await #expect(throws: ZstdError.self) {
            try await Pipeline(source: MemorySource(truncated), filters: [try ZstdDecompressor()], sink: MemorySink()).run()
        }
        await #expect(throws: ZstdError.self) {
            try await Pipeline(source: MemorySource([1, 2, 3, 4, 5, 6, 7, 8]), filters: [try ZstdDecompressor()], sink: MemorySink()).run()
        }
    }

    /// Several jobs on two workers, at both job sizes a backup uses: zstd's frame does not depend
    /// on the job size, so a restore needs to know nothing of it.
    @Test(arguments: [ZstdCompressor.defaultJobSize, 2 << 20])
    func multiThreadedJobsRoundTrip(jobSize: Int) throws {
        let input = sampleBytes(5 * jobSize + 12_345)
        let compressor = try ZstdCompressor(level: 3, threads: 2, jobSize: jobSize)
        var compressed: [UInt8] = []
        for start in stride(from: 0, to: input.count, by: 300_000) {
            try compressor.process(Array(input[start..<min(start + 300_000, input.count)])) { compressed += $0 }
        }
        try compressor.finish { compressed += $0 }
        let decompressor = try ZstdDecompressor()
        var output: [UInt8] = []
        try decompressor.process(compressed) { output += $0 }
        try decompressor.finish { output += $0 }
        #expect(output == input)
    }

    /// `wal-fetch`'s way: input fed in pieces of any size, decompressed into one buffer the
    /// caller reuses, smaller than zstd's own block (so most calls fill it); what comes out in
    /// order is the input, and a stream cut short is refused at `finish`.
    @Test func decompressionIntoAReusedBufferGivesTheInput() throws {
        let input = sampleBytes(3_000_000)
        let compressor = try ZstdCompressor(level: 3, threads: 1)
        var compressed: [UInt8] = []
        try compressor.process(input) { compressed += $0 }
        try compressor.finish { compressed += $0 }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 100_000, alignment: 16)
        defer { buffer.deallocate() }
        func decompress(_ compressed: [UInt8]) throws -> [UInt8] {
            let decompressor = try ZstdDecompressor()
            var output: [UInt8] = []
            for start in stride(from: 0, to: compressed.count, by: 77_777) {
                try compressed[start..<min(start + 77_777, compressed.count)].withUnsafeBytes { piece in
                    try decompressor.process(piece, into: buffer) { plain in
                        #expect(plain.baseAddress == UnsafeRawPointer(buffer.baseAddress))
                        output += plain
                    }
                }
            }
            try decompressor.finish { _ in }
            return output
        }
        #expect(try decompress(compressed) == input)
        #expect(throws: ZstdError.self) { try decompress(Array(compressed.dropLast(10))) }
    }

    /// 64 MiB of zeros compress to almost nothing; inflating must still come out in bounded pieces.
    @Test func inflationIsEmittedInBoundedPieces() throws {
        let zeros = [UInt8](repeating: 0, count: 64 << 20)
        let compressor = try ZstdCompressor(level: 3, threads: 1)
        var compressed: [UInt8] = []
        try compressor.process(zeros) { compressed += $0 }
        try compressor.finish { compressed += $0 }
        #expect(compressed.count < 1 << 20)
        let decompressor = try ZstdDecompressor()
        var largest = 0
        var total = 0
        try decompressor.process(compressed) { piece in
            largest = max(largest, piece.count)
            total += piece.count
        }
        try decompressor.finish { _ in }
        #expect(total == 64 << 20)
        #expect(largest <= 256 << 10)
    }
}

@Suite struct BoundedQueueTests {
    /// A popped piece must be released at once, even when the queue never runs empty
    /// (a producer always one step ahead): otherwise a stream's memory grows with its size.
    @Test func poppedElementsAreReleased() throws {
        final class Piece: @unchecked Sendable {
            static let alive = NSLock()
            nonisolated(unsafe) static var count = 0
            init() { Piece.alive.withLock { Piece.count += 1 } }
            deinit { Piece.alive.withLock { Piece.count -= 1 } }
        }
        let queue = BoundedQueue<Piece>(capacity: 3)
        try queue.push(Piece())
        for _ in 0..<1000 {
            try queue.push(Piece())
            _ = try queue.pop()
        }
        #expect(Piece.alive.withLock { Piece.count } == 1)
        _ = try queue.pop()
        #expect(Piece.alive.withLock { Piece.count } == 0)
    }

    @Test func closeDrainsThenEnds() throws {
        let queue = BoundedQueue<Int>(capacity: 2)
        try queue.push(1)
        try queue.push(2)
        queue.close()
        #expect(try queue.pop() == 1)
        #expect(try queue.pop() == 2)
        #expect(try queue.pop() == nil)
    }

    @Test func failWakesBothSides() throws {
        let queue = BoundedQueue<Int>(capacity: 1)
        try queue.push(1)
        queue.fail(TestFailure("stop"))
        #expect(throws: TestFailure("stop")) { try queue.push(2) }
        #expect(throws: TestFailure("stop")) { _ = try queue.pop() }
    }
}
