import Foundation

/// Runs blocking work (libpq, storage listings and deletes, waiting for server programs) on a
/// thread of its own, never on Swift's cooperative pool, and awaits it. What it returns is handed
/// over to the caller (`sending`): a value made there, such as an opened `ObjectReader`, may be
/// one that is not `Sendable`.
public enum OffPool {
    public static func run<T>(_ body: @escaping @Sendable () throws -> sending T) async throws -> sending T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                do {
                    continuation.resume(returning: try body())
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}
