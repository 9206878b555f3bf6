import Foundation

/// Runs blocking work (libpq, storage listings and deletes, waiting for server programs) on a
/// thread of its own, never on Swift's cooperative pool, and awaits it.
public enum OffPool {
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try body() })
            }
        }
    }
}
