import Foundation
import Synchronization

/// How a request is retried: at most `maxAttempts` attempts, no new attempt once `deadline`
/// seconds have passed since the first one, and a pause before each retry (`backoff`). Which
/// failures are worth another attempt is the caller's to say (`HTTPRetry.Attempt`): S3 retries
/// throttling, 5xx and broken transfers only (`HTTPRetryPolicy.s3`), a notification any failure.
public struct HTTPRetryPolicy: Sendable {
    public var maxAttempts: Int
    /// Seconds over all attempts; `.infinity`: attempts alone bound the retries.
    public var deadline: Double
    public var backoff: HTTPBackoff

    public init(maxAttempts: Int, deadline: Double = .infinity, backoff: HTTPBackoff) {
        self.maxAttempts = maxAttempts
        self.deadline = deadline
        self.backoff = backoff
    }

    /// The pause before attempt `attempt + 1` (attempt is 1-based).
    public func backoff(after attempt: Int) -> Double {
        switch backoff {
        case .fullJitter(let base, let cap):
            let ceiling = min(cap, base * Double(1 << min(attempt - 1, 30)))
            return Double.random(in: 0...ceiling)
        case .linear(let step):
            return step * Double(attempt)
        }
    }
}

/// The pause between attempts.
public enum HTTPBackoff: Sendable, Equatable {
    /// Exponential with full jitter: uniform in [0, min(cap, base·2^(attempt-1))], so clients
    /// that failed together do not come back together.
    case fullJitter(base: Double, cap: Double)
    /// `step · attempt`: a pause that grows by `step` after each attempt.
    case linear(step: Double)
}

/// Runs one request's attempts within a policy. The only retry loop of the HTTP clients: S3
/// requests (a reader's window refetch among them) and notification webhooks go through it.
public struct HTTPRetry {
    /// What one attempt came to.
    public enum Attempt<Value> {
        /// An answer to hand back (a success, or a failure not worth retrying).
        case done(Value)
        /// A failure worth another attempt; thrown, through `exhausted`, when none is left.
        case retry(Error)
    }

    public let policy: HTTPRetryPolicy
    /// Once cancelled, no new attempt starts.
    public let cancellation: HTTPCancellation?
    /// Called before each retry (for counters).
    public var onRetry: () -> Void = {}

    public init(policy: HTTPRetryPolicy, cancellation: HTTPCancellation? = nil) {
        self.policy = policy
        self.cancellation = cancellation
    }

    /// Calls `attempt` (with its 1-based number) until it is `.done`, throws (never retried), or
    /// the policy allows no other attempt: then the last failure is thrown as
    /// `exhausted(failure, attempts made, seconds since the first attempt)` makes it. The pause
    /// before a retry never reaches past the deadline.
    public func run<Value>(_ attempt: (Int) throws -> Attempt<Value>,
                           exhausted: (Error, Int, Double) -> Error = { error, _, _ in error }) throws -> Value {
        let started = Date()
        var number = 0
        while true {
            number += 1
            switch try attempt(number) {
            case .done(let value):
                return value
            case .retry(let failure):
                let elapsed = Date().timeIntervalSince(started)
                if number >= policy.maxAttempts || elapsed >= policy.deadline || cancellation?.isCancelled == true {
                    throw exhausted(failure, number, elapsed)
                }
            }
            onRetry()
            let pause = min(policy.backoff(after: number), max(0, policy.deadline - Date().timeIntervalSince(started)))
            if pause > 0 { usleep(UInt32(pause * 1_000_000)) }
        }
    }
}

/// Retries done so far (by a store and its copies, readers and writers), for tests and statistics.
public final class HTTPRetryCounter: Sendable {
    private let count = Atomic<Int>(0)
    public init() {}
    public var value: Int { count.load(ordering: .relaxed) }
    public func increment() { count.add(1, ordering: .relaxed) }
}

extension HTTPError {
    /// A transfer that broke after the connection was made, worth another attempt: partial file
    /// (18), timeout/stall (28), empty reply (52), send error (55), receive error/reset (56),
    /// HTTP/2 errors (16, 92). Refused connections (7) and DNS failures (6) are not.
    public var isBrokenTransfer: Bool {
        guard case .transport(_, let code, _) = self else { return false }
        return [16, 18, 28, 52, 55, 56, 92].contains(code)
    }
}
