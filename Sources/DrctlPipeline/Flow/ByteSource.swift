/// Where a pipeline's bytes come from: a program's stdout, a stored object, a file.
///
/// Called from one dedicated thread; `read` may block. `cancel()` is called from another
/// thread and must make a blocked `read` return soon (e.g. by killing the child process).
public protocol ByteSource: AnyObject {
    /// Reads up to `buffer.count` bytes; returns 0 at the end of the stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    /// Called once after `read` returned 0: a source that can fail late (a program's exit
    /// status) reports it here.
    func finish() throws
    /// Stops the source early; called at most once, from any thread.
    func cancel()
}

/// Where a pipeline's bytes go: object writers of one or more regions, a file, nothing.
public protocol ByteSink: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// A whole piece as the pipeline hands it on. A sink that keeps pieces (the region fan-out
    /// queues them for its regions) takes this one without copying; the default writes its bytes.
    func write(piece: [UInt8]) throws
    /// All bytes were written and every stage succeeded: make them durable.
    func finish() throws
    /// The pipeline failed or was cancelled: remove whatever was written.
    func abort()
}

extension ByteSink {
    public func write(piece: [UInt8]) throws {
        try piece.withUnsafeBytes { try write($0) }
    }
}
