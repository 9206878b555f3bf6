import CZstd

/// zstd streaming compression as a pipeline stage. With `threads > 0`, zstd compresses on
/// its own worker threads; this stage's thread only feeds them.
public final class ZstdCompressor: StreamFilter {
    public let name = "zstd"
    /// The job size of a backup that has no memory to spare for larger jobs (see `init`).
    public static let defaultJobSize = 768 << 10
    /// zstd's overlapLog: 1 means none, 9 the whole window.
    static let overlapLog: Int32 = 1
    private let context: OpaquePointer
    private let outputSize = ZSTD_CStreamOutSize()

    /// - Parameters:
    ///   - level: zstd level (1...19).
    ///   - threads: worker threads; 0 means one per core.
    ///   - jobSize: bytes of input per job with more than one worker (zstd's minimum is 512 KiB).
    ///   - contentSize: the input's size when it is known before it starts (a WAL file's): the
    ///     frame records it, as `ZstdFrame`'s do, and feeding another count is an error.
    public init(level: Int32, threads: Int, jobSize: Int = ZstdCompressor.defaultJobSize, contentSize: Int? = nil) throws {
        guard let context = ZSTD_createCCtx() else { throw ZstdError(operation: "create a compression context", code: 0) }
        self.context = context
        let workers = threads == 0 ? ProcessorCount.online : threads
        try check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level), "set level \(level)")
        if let contentSize {
            try check(ZSTD_CCtx_setPledgedSrcSize(context, UInt64(contentSize)), "set the content size")
        }
        if workers > 1 {
            // A single-threaded libzstd returns an error here; compress inline then.
            _ = ZSTD_CCtx_setParameter(context, ZSTD_c_nbWorkers, Int32(workers))
            // zstd's multi-threaded memory grows with its job size (default 4 × window, 8 MiB at
            // level 3), and so does its speed: each job starts by clearing its tables and
            // reloading an overlap of the window. Static build, 2 cores, backup of `cat FILE`,
            // wall time and peak RSS:
            //   job      814 MB pg_dump (5:1)   1 GiB bench corpus (2.3:1)
            //   512 KiB  1.7 s   48-50 MB       1.1 s   53-58 MB
            //   768 KiB  1.45 s  51 MB          1.0 s   56-63 MB
            //   1 MiB    1.35 s  52-53 MB       1.0 s   65-72 MB
            //   2 MiB    1.1 s   59-60 MB       0.95 s  84-86 MB
            // (`cat FILE | zstd -3 -T0`: 1.2 s and 0.9 s). 768 KiB keeps a backup under 64 MiB;
            // a backup with memory to spare asks for more (StreamMemory in DrctlJobs).
            _ = ZSTD_CCtx_setParameter(context, ZSTD_c_jobSize, Int32(jobSize))
            // No overlap: a job does not reload the end of the previous one (by default a
            // quarter of the 2 MiB window at level 3). Backup of the 1 GiB bench corpus, six
            // alternating runs each: 1.88 s and 3.08 CPU-s against 2.38 s and 3.96 CPU-s with
            // the default overlap, and the stored object no bigger (`zstd -3 -T2 -B786432`:
            // 446,569,379 bytes against 446,585,769). Matches across a job boundary are lost
            // either way but for that quarter window.
            _ = ZSTD_CCtx_setParameter(context, ZSTD_c_overlapLog, ZstdCompressor.overlapLog)
        }
    }

    deinit { ZSTD_freeCCtx(context) }

    public func process(_ input: [UInt8], emit: ([UInt8]) throws -> Void) throws {
        try input.withUnsafeBytes { try process($0, emit: emit) }
    }

    /// The same for bytes its caller reuses once this returns (a read buffer): zstd has copied
    /// or compressed all of them by then.
    public func process(_ input: UnsafeRawBufferPointer, emit: ([UInt8]) throws -> Void) throws {
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while source.pos < source.size {
            try step(&source, ZSTD_e_continue, emit: emit)
        }
    }

    public func finish(emit: ([UInt8]) throws -> Void) throws {
        var source = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        while try step(&source, ZSTD_e_end, emit: emit) != 0 {}
    }

    /// One call of ZSTD_compressStream2; returns zstd's "bytes still to flush" hint.
    @discardableResult
    private func step(_ source: inout ZSTD_inBuffer, _ mode: ZSTD_EndDirective,
                      emit: ([UInt8]) throws -> Void) throws -> Int {
        var remaining = 0
        let piece = try [UInt8](unsafeUninitializedCapacity: outputSize) { buffer, count in
            var sink = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
            remaining = ZSTD_compressStream2(context, &sink, &source, mode)
            try check(remaining, "compress")
            count = sink.pos
        }
        if !piece.isEmpty { try emit(piece) }
        return remaining
    }
}

/// zstd streaming decompression as a pipeline stage; emits at most one output buffer
/// (256 KiB) at a time however far the input inflates.
public final class ZstdDecompressor: StreamFilter {
    public let name = "unzstd"
    private let context: OpaquePointer
    /// The largest piece emitted: the pipeline's piece size, big enough to keep hand-offs
    /// rare, small enough to stay in a core's cache.
    private let pieceSize = 256 << 10
    /// zstd's hint after the last call: 0 means a frame just ended cleanly.
    private var frameRemainder = 0
    private var sawInput = false

    public init() throws {
        guard let context = ZSTD_createDCtx() else { throw ZstdError(operation: "create a decompression context", code: 0) }
        self.context = context
        // Refuse frames that would need a window above 2 GiB: a hostile header cannot make us
        // allocate more than that.
        _ = ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, 31)
    }

    deinit { ZSTD_freeDCtx(context) }

    public func process(_ input: [UInt8], emit: ([UInt8]) throws -> Void) throws {
        try input.withUnsafeBytes { bytes in
            try pieces(of: bytes, capacity: pieceSize) { source in
                // zstd writes straight into the piece that is handed on: no copy.
                let piece = try [UInt8](unsafeUninitializedCapacity: pieceSize) { buffer, count in
                    count = try step(&source, into: UnsafeMutableRawBufferPointer(buffer))
                }
                if !piece.isEmpty { try emit(piece) }
                return piece.count
            }
        }
    }

    /// The same into `output`, which the caller reuses (`wal-fetch`: no fresh pages per piece):
    /// each piece given to `emit` is the start of `output`, valid until `emit` returns.
    public func process(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                        emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        try pieces(of: input, capacity: output.count) { source in
            let count = try step(&source, into: output)
            if count > 0 { try emit(UnsafeRawBufferPointer(rebasing: output[0..<count])) }
            return count
        }
    }

    /// Calls `piece` (one `step` into `capacity` bytes and the hand-off of its output; returns
    /// the bytes written) while input remains or the output came back full (more may be
    /// buffered inside zstd).
    private func pieces(of input: UnsafeRawBufferPointer, capacity: Int, _ piece: (inout ZSTD_inBuffer) throws -> Int) throws {
        if !input.isEmpty { sawInput = true }
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        var outputFull = true
        while source.pos < source.size || outputFull {
            let count = try piece(&source)
            outputFull = count == capacity
            if count == 0 && source.pos == source.size { break }
        }
    }

    /// One call of ZSTD_decompressStream into `output`; returns the bytes it wrote there.
    private func step(_ source: inout ZSTD_inBuffer, into output: UnsafeMutableRawBufferPointer) throws -> Int {
        let consumedBefore = source.pos
        var sink = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
        let hint = ZSTD_decompressStream(context, &sink, &source)
        try check(hint, "decompress")
        // A call that made no progress (an extra call after a frame ended exactly at a full
        // buffer) says nothing about the frame.
        if sink.pos > 0 || source.pos > consumedBefore { frameRemainder = hint }
        return sink.pos
    }

    public func finish(emit: ([UInt8]) throws -> Void) throws {
        if sawInput && frameRemainder != 0 {
            throw ZstdError(operation: "decompress", code: 0,
                            detail: "the compressed stream ends inside a frame (truncated)")
        }
        if !sawInput {
            throw ZstdError(operation: "decompress", code: 0, detail: "the compressed stream is empty")
        }
    }
}

public struct ZstdError: Error, CustomStringConvertible {
    public let operation: String
    public let code: Int
    public var detail: String?

    public var description: String {
        if let detail { return "zstd could not \(operation): \(detail)" }
        let name = String(cString: ZSTD_getErrorName(code))
        return "zstd could not \(operation): \(name)"
    }
}

private func check(_ result: Int, _ operation: String) throws {
    if ZSTD_isError(result) != 0 {
        throw ZstdError(operation: operation, code: result)
    }
}

/// The zstd library version, e.g. "1.5.4".
public enum ZstdInfo {
    public static var version: String { String(cString: ZSTD_versionString()) }
}
