import DrctlPipeline
import DrctlPolicy

/// How a backup into a repository spends the memory that depends on its regions (DESIGN.md §1:
/// peak memory is a constant of the configuration): the S3 part buffers and zstd's job size.
///
/// The S3 regions share 30 MiB of part buffers: 15 MiB each for one or two (three 5 MiB parts:
/// one filling, two in flight), 10 MiB each for three or more (one in flight). With 15 MiB each,
/// three regions peaked at 133 MiB on a 1 GiB stream; sharing, at 109 MiB (scripts/bench-s3.sh).
///
/// A single S3 region leaves 15 MiB of that unspent, and it goes to zstd: 2 MiB jobs instead of
/// 768 KiB (zstd holds about seven jobs' buffers; each job first clears its tables, so larger
/// jobs compress faster). scripts/bench-s3.sh's database, one region on moto, five rounds
/// alternating: 5.07–6.50 s (median 5.63) against 5.68–7.51 s (5.96), faster in every round;
/// peak RSS 72–79 against 64–70 MiB, and 105 against 90 MiB for a 1 GiB incompressible stream.
/// Three regions were no faster with 2 MiB jobs (8.0–9.3 s against 8.1–8.8 s, three rounds) and
/// peaked at 124 MiB on that stream, too near the 128 MiB bound. A repository of directories
/// keeps 768 KiB: its bound is 64 MiB, and 2 MiB jobs took issue #2's 1 GiB corpus to 76 MiB.
struct StreamMemory {
    static let sharedPartBuffers = 30 << 20
    static let largeJobSize = 2 << 20

    let s3Regions: Int

    /// Part buffers of each S3 region's writer (`S3ObjectStore.uploadMemory`).
    var uploadMemoryPerRegion: Int {
        min(15 << 20, max(10 << 20, Self.sharedPartBuffers / max(1, s3Regions)))
    }

    /// zstd's job size (`ZstdCompressor`, with more than one worker thread).
    var compressionJobSize: Int {
        s3Regions == 1 ? Self.largeJobSize : ZstdCompressor.defaultJobSize
    }
}

extension StreamMemory {
    init(_ policy: RepositoryPolicy) {
        self.init(s3Regions: policy.regions.filter { if case .s3 = $0.location { true } else { false } }.count)
    }
}
