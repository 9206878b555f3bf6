import Foundation
import Synchronization

/// How S3 requests are retried: exponential backoff with full jitter (`base` doubling per attempt,
/// capped at `cap`), at most `maxAttempts` attempts and no new attempt once `deadline` seconds
/// have passed since the first one. Reads and writes share it.
///
/// 12 attempts: in a storm where about 42% of requests fail (503 SlowDown, resets, cut bodies,
/// stalls; scripts/restore-storm.sh), a request gives up all of 8 attempts with probability
/// 0.42^8 ≈ 1e-3, and a 200 MB restore's ~480 requests then fail about one restore run in three;
/// with 12, 0.42^12 ≈ 3e-5, about 1.5% of such runs. The pauses (full jitter, 0.1 s doubling,
/// at most 5 s) of 12 attempts add up to 31 s at most, inside the 60 s deadline.
public struct S3RetryPolicy: Sendable {
    public var maxAttempts = 12
    public var deadline: Double = 60
    public var base: Double = 0.1
    public var cap: Double = 5

    public init() {}

    /// The pause before attempt `attempt + 1` (attempt is 1-based): uniform in [0, min(cap, base·2^(attempt-1))].
    func backoff(after attempt: Int) -> Double {
        let ceiling = min(cap, base * Double(1 << min(attempt - 1, 30)))
        return Double.random(in: 0...ceiling)
    }

    /// curl codes of transfers that broke after the connection was made: partial file (18),
    /// timeout/stall (28), empty reply (52), send error (55), receive error/reset (56),
    /// HTTP/2 errors (16, 92). Refused connections (7) and DNS failures (6) are not retried.
    static func isTransient(curlCode: Int) -> Bool {
        [16, 18, 28, 52, 55, 56, 92].contains(curlCode)
    }

    /// HTTP statuses and S3 codes worth another attempt. A body the server received damaged
    /// (BadDigest: not the `x-amz-checksum-sha256` sent; XAmzContentSHA256Mismatch: not the signed
    /// payload hash) is sent again: the request's bytes are still in memory, and intact.
    static func isRetryable(status: Int, code: String?) -> Bool {
        if [500, 502, 503, 504, 429].contains(status) { return true }
        if let code, ["SlowDown", "InternalError", "RequestTimeout", "ServiceUnavailable",
                      "BadDigest", "XAmzContentSHA256Mismatch"].contains(code) { return true }
        return false
    }
}

/// Retries done by a store (and its copies, readers and writers), for tests and statistics.
public final class S3RetryCounter: Sendable {
    private let count = Atomic<Int>(0)
    public init() {}
    public var value: Int { count.load(ordering: .relaxed) }
    func increment() { count.add(1, ordering: .relaxed) }
}
