import Synchronization

/// Cuts short the transfers of the clients that share it, from any thread: a region dropped
/// for stalling must not keep a thread blocked in libcurl until the server answers. libcurl
/// asks at least once a second (its progress callback), so a cancelled transfer ends within
/// about a second with `HTTPError.cancelled`, which is never retried.
public final class HTTPCancellation: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    public var isCancelled: Bool { flag.load(ordering: .relaxed) }

    public func cancel() { flag.store(true, ordering: .relaxed) }
}
