import CZstd

/// What a zstd frame's header says about the frame, read before any of it is decompressed.
public enum ZstdFrame {
    /// The content size the frame starting at `bytes` records; nil when it records none, or
    /// `bytes` does not start with a whole frame header.
    ///
    /// A WAL object's body is one frame recording the file's size (docs/FORMAT.md, "The WAL
    /// object"): a reader that finds this size equal to the header's, and then exactly that many
    /// bytes in all, has read one frame and nothing after it, although zstd's streaming reader
    /// would go on into a second frame.
    public static func declaredContentSize(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        let size = ZSTD_getFrameContentSize(bytes.baseAddress, bytes.count)
        if size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR { return nil }
        return size
    }
}
