import Testing
@testable import DrctlPipeline

/// One zstd frame in one call (`ZstdFrame`, a WAL segment's): what comes back is the input, and a
/// frame that is not the size its caller expects, or is cut, is refused naming why. `wal-push`
/// makes its frame as a stream given the content size, on zstd's workers: one frame the reader
/// opens; frames concatenated are not one frame, and the reader refuses them.
@Suite struct ZstdFrameTests {
    let input = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31 ^ ($0 >> 7)) }

    func frame() throws -> [UInt8] {
        try input.withUnsafeBytes { try ZstdFrame.compress($0, level: 1) }
    }

    @Test func aFrameDecompressesToItsInput() throws {
        let frame = try frame()
        #expect(frame.count < input.count)
        #expect(try frame.withUnsafeBytes { try ZstdFrame.decompress($0, expectedSize: input.count) } == input)
    }

    @Test func aFrameOfAnotherSizeIsRefusedNamingBoth() throws {
        let frame = try frame()
        let error = #expect(throws: ZstdError.self) {
            try frame.withUnsafeBytes { try ZstdFrame.decompress($0, expectedSize: input.count - 1) }
        }
        #expect(error?.description == "zstd could not decompress: the frame holds \(input.count) bytes, \(input.count - 1) were expected")
    }

    /// What `WalFileSealing` does: pieces of a read buffer into zstd's two workers, jobs of 512 KiB.
    func streamed(_ input: [UInt8], contentSize: Int) throws -> [UInt8] {
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

    /// Several jobs (3 MiB in jobs of 512 KiB), and yet one frame that records the whole size:
    /// the reader, which checks the recorded size against the expected one, opens it.
    @Test func aStreamGivenItsSizeIsOneFrameTheReaderOpens() throws {
        let large = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: ($0 / 3) &* 31 ^ ($0 >> 11)) }
        let frame = try streamed(large, contentSize: large.count)
        #expect(frame.count < large.count / 2)
        #expect(try frame.withUnsafeBytes { try ZstdFrame.decompress($0, expectedSize: large.count) } == large)
        #expect(throws: ZstdError.self) {
            try frame.withUnsafeBytes { try ZstdFrame.decompress($0, expectedSize: large.count + 1) }
        }
    }

    @Test func aStreamShorterThanItsGivenSizeIsRefused() throws {
        #expect(throws: ZstdError.self) { try streamed(input, contentSize: input.count + 1) }
    }

    /// Two frames one after the other are a valid zstd stream, but not a WAL object's body
    /// (docs/FORMAT.md: one frame): the reader refuses them, naming the first frame's size.
    @Test func framesConcatenatedAreRefused() throws {
        let halves = try [input[..<100_000], input[100_000...]].map { half in
            try Array(half).withUnsafeBytes { try ZstdFrame.compress($0, level: 1) }
        }
        let error = #expect(throws: ZstdError.self) {
            try (halves[0] + halves[1]).withUnsafeBytes { try ZstdFrame.decompress($0, expectedSize: input.count) }
        }
        #expect(error?.description == "zstd could not decompress: the frame holds 100000 bytes, \(input.count) were expected")
    }

    @Test func aCutFrameIsRefused() throws {
        let cut = Array(try frame().dropLast(10))
        #expect(throws: ZstdError.self) {
            try cut.withUnsafeBytes { try ZstdFrame.decompress($0, expectedSize: input.count) }
        }
    }
}
