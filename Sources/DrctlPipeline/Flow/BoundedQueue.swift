import Foundation

/// A blocking, bounded FIFO connecting two pipeline threads.
///
/// `push` blocks while the queue is full, `pop` while it is empty: this is what keeps the
/// pipeline's memory a constant of its configuration. Either side can end the flow:
/// `close()` (the producer is done: `pop` drains, then returns nil) or `fail(_:)` (everything
/// stops: both sides throw the error at their next call, waking any that wait).
// unchecked: every `var` is guarded by `condition` (an NSCondition, for its waits).
final class BoundedQueue<Element>: @unchecked Sendable {
    private let condition = NSCondition()
    /// At most `capacity` elements: removing the first is cheap at that size, and a popped
    /// element is released at once (the pieces are megabytes).
    private var items: [Element] = []
    private let capacity: Int
    private var closed = false
    private var failure: Error?

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
        items.reserveCapacity(capacity)
    }

    func push(_ element: Element) throws {
        condition.lock()
        defer { condition.unlock() }
        while failure == nil && !closed && items.count >= capacity {
            condition.wait()
        }
        if let failure { throw failure }
        precondition(!closed, "push after close")
        items.append(element)
        condition.broadcast()
    }

    /// The next element, or nil once the producer closed the queue and it is drained.
    func pop() throws -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while failure == nil && !closed && items.isEmpty {
            condition.wait()
        }
        if let failure { throw failure }
        if items.isEmpty { return nil }
        let element = items.removeFirst()
        condition.broadcast()
        return element
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Stops both sides; the first failure wins.
    func fail(_ error: Error) {
        condition.lock()
        if failure == nil { failure = error }
        items.removeAll()
        condition.broadcast()
        condition.unlock()
    }
}
