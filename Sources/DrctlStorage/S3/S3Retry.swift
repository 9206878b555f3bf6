import Foundation

extension HTTPRetryPolicy {
    /// How S3 requests are retried, reads and writes alike: exponential backoff with full jitter
    /// (0.1 s doubling per attempt, capped at 5 s), at most 12 attempts and no new attempt once
    /// 60 s have passed since the first one.
    ///
    /// 12 attempts: in a storm where about 42% of requests fail (503 SlowDown, resets, cut bodies,
    /// stalls; scripts/restore-storm.sh), a request gives up all of 8 attempts with probability
    /// 0.42^8 ≈ 1e-3, and a 200 MB restore's ~480 requests then fail about one restore run in three;
    /// with 12, 0.42^12 ≈ 3e-5, about 1.5% of such runs. The pauses of 12 attempts add up to 31 s
    /// at most, inside the 60 s deadline.
    public static let s3 = HTTPRetryPolicy(maxAttempts: 12, deadline: 60, backoff: .fullJitter(base: 0.1, cap: 5))
}

extension S3ErrorResponse {
    /// HTTP statuses and S3 codes worth another attempt. A body the server received damaged
    /// (BadDigest: not the `x-amz-checksum-sha256` sent; XAmzContentSHA256Mismatch: not the signed
    /// payload hash) is sent again: the request's bytes are still in memory, and intact.
    var isRetryable: Bool {
        if [500, 502, 503, 504, 429].contains(status) { return true }
        if let code, ["SlowDown", "InternalError", "RequestTimeout", "ServiceUnavailable",
                      "BadDigest", "XAmzContentSHA256Mismatch"].contains(code) { return true }
        return false
    }
}

/// Sending with retries (`HTTPRetry`, `retryPolicy`), and what a retry means for a write.
extension S3ObjectStore {
    /// An answer of `sendRetrying`.
    typealias S3Answer = (response: HTTPResponse, body: [UInt8], uncertain: Bool)

    /// Builds, signs and sends one request; the body is collected (up to `limit` bytes).
    /// `objectKey` nil addresses the bucket itself. Transient failures are retried (see
    /// `sendRetrying`).
    func send(_ client: HTTPClient, method: String, objectKey: String?,
              query: [(name: String, value: String?)] = [], headers: [(String, String)] = [],
              body: [UInt8] = [], payloadSHA256: String? = nil, limit: Int = 16 << 20,
              operation: String, key: String) throws -> (HTTPResponse, [UInt8]) {
        let answer = try sendRetrying(client, method: method, objectKey: objectKey, query: query, headers: headers,
                                      body: body, payloadSHA256: payloadSHA256, limit: limit,
                                      operation: operation, key: key)
        return (answer.response, answer.body)
    }

    /// As `send`, retrying (the body is in memory, so every request can be replayed) on 500, 502,
    /// 503, 504, 429, S3's SlowDown/InternalError/RequestTimeout, and on transfers broken after the
    /// connection was made (reset, stall, empty reply, partial transfer), with backoff and full
    /// jitter, within `retryPolicy`. A refused connection, a DNS failure and every other answer
    /// (403, 404, 400, 412, …) are returned or thrown at once. Each attempt is signed anew.
    ///
    /// `uncertain` is true when an earlier attempt broke in transit: the server may have carried it
    /// out (a 412 or NoSuchUpload that follows may be caused by our own first attempt).
    ///
    /// `incomplete` says why a 2xx answer is not whole (a ranged GET's body shorter than the range,
    /// from a server that closed early without a Content-Length), or nil: such an answer is
    /// retried as a broken transfer. `reserve` is the body's expected size, allocated once.
    func sendRetrying(_ client: HTTPClient, method: String, objectKey: String?,
                      query: [(name: String, value: String?)] = [], headers: [(String, String)] = [],
                      body: [UInt8] = [], payloadSHA256: String? = nil, limit: Int = 16 << 20, reserve: Int = 0,
                      operation: String, key: String,
                      incomplete: (HTTPResponse, [UInt8]) -> String? = { _, _ in nil })
        throws -> S3Answer {
        if let deadline, deadline.hasPassed {
            throw StorageError.io(operation: operation, key: key, location: location, reason: deadline.reason(after: nil))
        }
        var uncertain = false
        var retry = HTTPRetry(policy: retryPolicy, cancellation: client.cancellation)
        retry.onRetry = retryCounter.increment
        return try retry.run({ (_: Int) -> HTTPRetry.Attempt<S3Answer> in
            do {
                let (response, answer) = try sendOnce(client, method: method, objectKey: objectKey, query: query,
                                                      headers: headers, body: body, payloadSHA256: payloadSHA256,
                                                      limit: limit, reserve: reserve, operation: operation, key: key)
                let error = S3ErrorResponse(status: response.status, body: answer)
                // CompleteMultipartUpload can fail with a 200 answer holding an Error document
                // (InternalError: retried like a 500).
                if (200..<300).contains(response.status) && !(method == "POST" && error.code != nil) {
                    guard let reason = incomplete(response, answer) else { return .done((response, answer, uncertain)) }
                    return .retry(StorageError.io(operation: operation, key: key, location: location, reason: reason))
                }
                guard error.isRetryable else { return .done((response, answer, uncertain)) }
                return .retry(failure(operation, key, error))
            } catch let error as HTTPError {
                guard error.isBrokenTransfer else { throw transportFailure(operation, key, error) }
                uncertain = true
                return .retry(transportFailure(operation, key, error))
            }
        }, exhausted: exhausted)
    }

    /// The last failure, saying how many attempts were made.
    /// Past the store's `deadline`, the failure says so (and a latching deadline is marked).
    private func exhausted(_ failure: Error, _ attempts: Int, _ elapsed: Double) -> Error {
        let seconds = String(format: "%.1f", elapsed)
        if case StorageError.io(let operation, let key, let location, let reason) = failure {
            let given = "\(reason) (gave up after \(attempts) attempts in \(seconds) s)"
            if let deadline, elapsed >= deadline.seconds {
                deadline.markPassed()
                return StorageError.io(operation: operation, key: key, location: location, reason: deadline.reason(after: given))
            }
            return StorageError.io(operation: operation, key: key, location: location, reason: given)
        }
        return failure
    }
}
