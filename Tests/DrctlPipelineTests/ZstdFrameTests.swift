import Testing
@testable import DrctlPipeline

/// One zstd frame in one call (`ZstdFrame`, a WAL segment's): what comes back is the input, and a
/// frame that is not the size its caller expects, or is cut, is refused naming why.
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

    @Test func aCutFrameIsRefused() throws {
        let cut = Array(try frame().dropLast(10))
        #expect(throws: ZstdError.self) {
            try cut.withUnsafeBytes { try ZstdFrame.decompress($0, expectedSize: input.count) }
        }
    }
}
