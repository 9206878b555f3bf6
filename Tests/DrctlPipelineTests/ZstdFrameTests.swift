import Testing
@testable import DrctlPipeline

/// A WAL object's body is one zstd frame recording the file's size (docs/FORMAT.md). `wal-push`
/// makes it as a stream given the content size, on zstd's two workers; `wal-fetch` checks the
/// size the first frame records (`ZstdFrame.declaredContentSize`) against the header's before it
/// decompresses, so frames one after the other — a valid zstd stream, not a WAL body — are refused.
@Suite struct ZstdFrameTests {
    let input = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31 ^ ($0 >> 7)) }

    /// What `WalFileSealing` does: pieces of a read buffer into zstd's two workers, jobs of 512 KiB.
    func streamed(_ input: [UInt8], contentSize: Int?) throws -> [UInt8] {
        let zstd = try ZstdCompressor(level: 1, threads: 2, jobSize: 512 << 10, contentSize: contentSize)
        var frame: [UInt8] = []
        try input.withUnsafeBytes { bytes in
            for start in stride(from: 0, to: bytes.count, by: 1 << 20) {
                let piece = UnsafeRawBufferPointer(rebasing: bytes[start..<min(start + (1 << 20), bytes.count)])
                try zstd.process(piece) { frame += $0 }
            }
        }
        try zstd.finish { frame += $0 }
        return frame
    }

    func decompressed(_ frame: [UInt8]) throws -> [UInt8] {
        let zstd = try ZstdDecompressor()
        var plain: [UInt8] = []
        try zstd.process(frame) { plain += $0 }
        try zstd.finish { plain += $0 }
        return plain
    }

    /// Several jobs (3 MiB in jobs of 512 KiB), and yet one frame that records the whole size.
    @Test func aStreamGivenItsSizeIsOneFrameRecordingIt() throws {
        let large = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: ($0 / 3) &* 31 ^ ($0 >> 11)) }
        let frame = try streamed(large, contentSize: large.count)
        #expect(frame.count < large.count / 2)
        #expect(frame.withUnsafeBytes { ZstdFrame.declaredContentSize($0) } == UInt64(large.count))
        #expect(try decompressed(frame) == large)
    }

    @Test func aStreamShorterThanItsGivenSizeIsRefused() throws {
        #expect(throws: ZstdError.self) { try streamed(input, contentSize: input.count + 1) }
    }

    /// Two frames one after the other decompress to the whole input, but the first records only
    /// its own half: what `wal-fetch` compares with the header's size.
    @Test func framesConcatenatedRecordTheFirstFramesSizeOnly() throws {
        let halves = try [input[..<100_000], input[100_000...]].map { try streamed(Array($0), contentSize: $0.count) }
        let joined = halves[0] + halves[1]
        #expect(try decompressed(joined) == input)
        #expect(joined.withUnsafeBytes { ZstdFrame.declaredContentSize($0) } == 100_000)
    }

    @Test func aFrameRecordingNoSizeOrNoFrameAtAllDeclaresNothing() throws {
        let unsized = try streamed(input, contentSize: nil)
        #expect(unsized.withUnsafeBytes { ZstdFrame.declaredContentSize($0) } == nil)
        #expect([UInt8](repeating: 7, count: 64).withUnsafeBytes { ZstdFrame.declaredContentSize($0) } == nil)
        #expect(Array(try streamed(input, contentSize: input.count).prefix(3)).withUnsafeBytes { ZstdFrame.declaredContentSize($0) } == nil)
    }
}
