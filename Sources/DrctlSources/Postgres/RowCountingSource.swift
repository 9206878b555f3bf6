import DrctlPipeline

/// A `pg_dump --format=custom` source whose bytes also pass through a row counter, on the
/// source's own thread (a memchr over the data: far cheaper than the pipe read itself).
public final class RowCountingSource: ByteSource {
    private let inner: ByteSource
    public let counter = CustomArchiveScanner()

    public init(_ inner: ByteSource) {
        self.inner = inner
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = try inner.read(into: buffer)
        if count > 0 { counter.consume(UnsafeRawBufferPointer(rebasing: buffer[..<count])) }
        return count
    }

    public func finish() throws { try inner.finish() }

    public func cancel() { inner.cancel() }
}
