/// One transformation stage of a pipeline: compress, seal, digest, open, decompress.
///
/// A filter is driven by one thread. It may emit any number of pieces per input, and must
/// emit them in bounded sizes: `emit` blocks while the next stage is behind, which is how the
/// pipeline's memory stays bounded (a 1 MiB zstd frame of zeros can inflate to gigabytes).
public protocol StreamFilter: AnyObject {
    /// A short name for messages ("zstd", "seal", "sha256").
    var name: String { get }
    func process(_ input: [UInt8], emit: ([UInt8]) throws -> Void) throws
    /// The input ended: flush what is buffered and check that the stream was complete.
    func finish(emit: ([UInt8]) throws -> Void) throws
}
