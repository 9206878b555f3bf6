import Foundation

/// A blocking, bounded FIFO connecting two pipeline threads.
///
/// `push` blocks while the queue is full, `pop` while it is empty: this is what keeps the
/// pipeline's memory a constant of its configuration. Either side can end the flow:
/// `close()` (the producer is done: `pop` drains, then returns nil) or `fail(_:)` (everything
/// stops: both sides throw the error at their next call, waking any that wait).
final class BoundedQueue<Element>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Element] = []
    private var head = 0
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
        while failure == nil && !closed && items.count - head >= capacity {
            condition.wait()
        }
        if let failure { throw failure }
        precondition(!closed, "push after close")
        if head > 0 && head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        }
        items.append(element)
        condition.broadcast()
    }

    /// The next element, or nil once the producer closed the queue and it is drained.
    func pop() throws -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while failure == nil && !closed && head == items.count {
            condition.wait()
        }
        if let failure { throw failure }
        if head == items.count { return nil }
        let element = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        }
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
        head = 0
        condition.broadcast()
        condition.unlock()
    }
}
