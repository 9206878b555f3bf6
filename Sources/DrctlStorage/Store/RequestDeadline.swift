import Synchronization

/// How long a region may take to answer one request (all its retries included) before it counts
/// as not answering: a frozen endpoint accepts connections and then says nothing, and without a
/// bound each request waits out the transport's stall timeout and retries (a minute or more).
///
/// `latching`: once one request has passed the deadline, the region's later requests in this
/// run fail at once instead of waiting again. Read-only commands latch (`check` must answer
/// within a monitor's timeout, whatever it asks the region next); a backup's lock requests do
/// not (a region that hung for a moment still deserves its lock renewed).
///
/// Shared by a store's copies (`ObjectStore.bounded(by:)`); thread-safe.
public final class RequestDeadline: Sendable {
    public let seconds: Double
    /// The policy's name of the region, for messages.
    public let region: String
    public let latching: Bool
    private let passed = Atomic<Bool>(false)

    public init(seconds: Double, region: String, latching: Bool) {
        self.seconds = seconds
        self.region = region
        self.latching = latching
    }

    /// Whether a latching deadline was passed once already: the region is not asked again.
    public var hasPassed: Bool { latching && passed.load(ordering: .relaxed) }

    func markPassed() { passed.store(true, ordering: .relaxed) }

    /// Why a request was given up: "region 's3' did not answer within 10 s (its read_deadline)".
    func reason(after detail: String?) -> String {
        let what = "region '\(region)' did not answer within \(Self.format(seconds)) s (its read_deadline)"
        guard let detail else { return what + "; not asked again in this run" }
        return what + " [" + detail + "]"
    }

    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}

extension ObjectStore {
    /// By default a store cannot bound its requests (a local directory's calls are the
    /// kernel's): itself.
    public func bounded(by deadline: RequestDeadline) -> ObjectStore { self }
}
