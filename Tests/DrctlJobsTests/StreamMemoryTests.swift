import Testing
import DrctlPipeline
@testable import DrctlJobs

/// The S3 regions of a repository share 30 MiB of part buffers; a single region leaves half of it
/// to zstd's larger jobs, and directories keep the small ones (their bound is 64 MiB).
@Suite struct StreamMemoryTests {
    @Test(arguments: [
        (0, 15 << 20, ZstdCompressor.defaultJobSize),
        (1, 15 << 20, 2 << 20),
        (2, 15 << 20, ZstdCompressor.defaultJobSize),
        (3, 10 << 20, ZstdCompressor.defaultJobSize),
        (5, 10 << 20, ZstdCompressor.defaultJobSize),
    ])
    func partBuffersAndJobSize(s3Regions: Int, partBuffers: Int, jobSize: Int) {
        let memory = StreamMemory(s3Regions: s3Regions)
        if s3Regions > 0 { #expect(memory.uploadMemoryPerRegion == partBuffers) }
        #expect(memory.compressionJobSize == jobSize)
    }
}
