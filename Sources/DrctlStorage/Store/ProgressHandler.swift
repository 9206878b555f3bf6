import Synchronization

/// The handler a `StallAwareWriter` calls on progress: set once, called from any thread.
final class ProgressHandler: Sendable {
    private let handler = Mutex<(@Sendable () -> Void)?>(nil)

    func set(_ body: @escaping @Sendable () -> Void) { handler.withLock { $0 = body } }

    func call() { handler.withLock { $0 }?() }
}
