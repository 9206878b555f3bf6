import CZstd

/// One zstd frame made or read in one call, for a small input held whole in memory. Neither WAL
/// command holds a segment whole any more: `wal-push` makes its frame as it reads the file (a
/// `ZstdCompressor` given the content size, the same format) and `wal-fetch` opens it as it
/// reads the object (a `ZstdDecompressor` into one reused buffer, `WalOpener`).
public enum ZstdFrame {
    /// `input` compressed as one frame at `level` (negative levels are zstd's fast ones) on this
    /// thread; the frame records its content size.
    public static func compress(_ input: UnsafeRawBufferPointer, level: Int32) throws -> [UInt8] {
        guard let context = ZSTD_createCCtx() else { throw ZstdError(operation: "create a compression context", code: 0) }
        defer { ZSTD_freeCCtx(context) }
        let level = ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        if ZSTD_isError(level) != 0 { throw ZstdError(operation: "set the level", code: level) }
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
