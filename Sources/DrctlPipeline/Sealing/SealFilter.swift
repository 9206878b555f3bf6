import DrctlCrypto

/// Authenticated encryption of a stream (docs/FORMAT.md, "Sealed stream"), as a stage.
public final class SealFilter: StreamFilter {
    public let name = "seal"
    private let sealer: StreamSealer

    public init(dataKey: DataKey, context: StreamContext, chunkSize: Int = StreamSealer.defaultChunkSize) {
        sealer = StreamSealer(dataKey: dataKey, context: context, chunkSize: chunkSize)
    }

    public func process(_ input: [UInt8], emit: ([UInt8]) throws -> Void) throws {
        try emit(input.withUnsafeBytes { sealer.update($0) })
    }

    public func finish(emit: ([UInt8]) throws -> Void) throws {
        try emit(sealer.finish())
    }
}

/// Checks and decrypts a sealed stream; emits only authenticated bytes.
public final class OpenFilter: StreamFilter {
    public let name = "open"
    private let opener: StreamOpener

    public init(dataKey: DataKey, expected: StreamContext) {
        opener = StreamOpener(dataKey: dataKey, expected: expected)
    }

    public func process(_ input: [UInt8], emit: ([UInt8]) throws -> Void) throws {
        try emit(try input.withUnsafeBytes { try opener.update($0) })
    }

    public func finish(emit: ([UInt8]) throws -> Void) throws {
        try emit(try opener.finish())
    }
}
