import Foundation

/// Runs blocking work (libpq, waiting for server programs) on a thread of its own, never on
/// Swift's cooperative pool, and awaits it.
enum OffPool {
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try body() })
            }
        }
    }
}
