import Synchronization

/// A byte count written by one pipeline thread and read by others (progress, reports).
public final class ByteCounter: Sendable {
    private let value = Atomic<UInt64>(0)

    public init() {}

    public func add(_ count: Int) {
        value.wrappingAdd(UInt64(count), ordering: .relaxed)
    }

    public var total: UInt64 { value.load(ordering: .relaxed) }
}
