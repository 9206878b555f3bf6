import CZstd

/// One zstd frame made or read in one call, for a small file held whole in memory (a WAL
/// segment: 16 MiB at most by default). A stream (`ZstdCompressor`) pays for its threads and
/// queues, which a single segment does not need; this costs one context and the output.
public enum ZstdFrame {
    /// `input` compressed as one frame at `level` (negative levels are zstd's fast ones), by
    /// `workers` of zstd's own threads (0: one per core; 1: this thread alone). The frame is the
    /// same format either way, and records its content size.
    public static func compress(_ input: UnsafeRawBufferPointer, level: Int32, workers: Int = 0) throws -> [UInt8] {
        guard let context = ZSTD_createCCtx() else { throw ZstdError(operation: "create a compression context", code: 0) }
        defer { ZSTD_freeCCtx(context) }
        let level = ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        if ZSTD_isError(level) != 0 { throw ZstdError(operation: "set the level", code: level) }
        let threads = workers == 0 ? ProcessorCount.online : workers
        if threads > 1 {
            // A single-threaded libzstd refuses: it compresses on this thread then.
            _ = ZSTD_CCtx_setParameter(context, ZSTD_c_nbWorkers, Int32(threads))
        }
        let bound = ZSTD_compressBound(input.count)
        // Uninitialised: only the pages zstd writes are ever touched.
        var failure: Int = 0
        let output = [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
            let written = ZSTD_compress2(context, buffer.baseAddress, bound, input.baseAddress, input.count)
            if ZSTD_isError(written) != 0 { failure = written; count = 0 } else { count = written }
        }
        if failure != 0 { throw ZstdError(operation: "compress", code: failure) }
        return output
    }

    /// The content of one frame that must decompress to exactly `expectedSize` bytes: a frame
    /// that says otherwise, holds more, or is damaged is an error.
    public static func decompress(_ frame: UnsafeRawBufferPointer, expectedSize: Int) throws -> [UInt8] {
        let declared = ZSTD_getFrameContentSize(frame.baseAddress, frame.count)
        if declared != ZSTD_CONTENTSIZE_UNKNOWN, declared != UInt64(expectedSize) {
            throw ZstdError(operation: "decompress", code: 0,
                            detail: "the frame holds \(declared) bytes, \(expectedSize) were expected")
        }
        var failure: Int = 0
        var produced = 0
        let output = [UInt8](unsafeUninitializedCapacity: expectedSize) { buffer, count in
            let written = ZSTD_decompress(buffer.baseAddress, expectedSize, frame.baseAddress, frame.count)
            if ZSTD_isError(written) != 0 { failure = written; count = 0 } else { produced = written; count = written }
        }
        if failure != 0 { throw ZstdError(operation: "decompress", code: failure) }
        guard produced == expectedSize else {
            throw ZstdError(operation: "decompress", code: 0, detail: "the frame holds \(produced) bytes, \(expectedSize) were expected")
        }
        return output
    }
}
