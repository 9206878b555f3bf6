import DrctlPipeline

/// Discards what it is given: `verify` reads every byte and restores nothing.
final class DiscardingSink: ByteSink {
    func write(_ bytes: UnsafeRawBufferPointer) throws {}
    func finish() throws {}
    func abort() {}
}
