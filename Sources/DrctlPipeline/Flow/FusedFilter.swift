/// Several filters run one after another on one thread. For cheap stages that follow each
/// other (seal, then SHA-256 of the sealed bytes) this keeps each piece hot in the core's
/// cache instead of handing it to another core between them.
public final class FusedFilter: StreamFilter {
    public let filters: [StreamFilter]
    public var name: String { filters.map(\.name).joined(separator: "+") }

    public init(_ filters: [StreamFilter]) {
        precondition(!filters.isEmpty)
        self.filters = filters
    }

    public func process(_ input: [UInt8], emit: ([UInt8]) throws -> Void) throws {
        try process(input, from: 0, emit: emit)
    }

    public func finish(emit: ([UInt8]) throws -> Void) throws {
        for index in filters.indices {
            try filters[index].finish { try process($0, from: index + 1, emit: emit) }
        }
    }

    /// Runs `piece` through the filters from `index` on.
    private func process(_ piece: [UInt8], from index: Int, emit: ([UInt8]) throws -> Void) throws {
        guard index < filters.count else { return try emit(piece) }
        try filters[index].process(piece) { try process($0, from: index + 1, emit: emit) }
    }
}
