import Foundation
import Testing
import DrctlSources
import DrctlTestSupport
@testable import DrctlStorage

/// The one retry loop, against real loopback servers: a receiver that refuses its first
/// requests with 500, an echo server that resets connections, a port nobody listens on. Pauses
/// are zero (`.linear(step: 0)`): counts are checked, never timings.
@Suite struct HTTPRetryTests {
    /// POSTs to `url` through `retry`: a 2xx is done, any other status is retried, transport
    /// errors are retried only when the transfer broke (as S3 does); returns the status.
    func post(_ url: String, _ retry: HTTPRetry, exhausted: (Error, Int, Double) -> Error = { error, _, _ in error })
        throws -> Int {
        try retry.run({ (_: Int) -> HTTPRetry.Attempt<Int> in
            do {
                let (response, _) = try HTTPClient().perform(HTTPRequest(method: "POST", url: url, body: HTTPRequestBody(bytes: [1])))
                return (200..<300).contains(response.status) ? .done(response.status) : .retry(HTTPStatusError(status: response.status))
            } catch let error as HTTPError where error.isBrokenTransfer {
                return .retry(error)
            }
        }, exhausted: exhausted)
    }

    func policy(attempts: Int, deadline: Double = .infinity) -> HTTPRetryPolicy {
        HTTPRetryPolicy(maxAttempts: attempts, deadline: deadline, backoff: .linear(step: 0))
    }

    @Test func failuresAreRetriedUntilOneSucceeds() throws {
        let receiver = try HTTPReceiver(failFirst: 2)
        var retry = HTTPRetry(policy: policy(attempts: 5))
        let retries = Counter()
        retry.onRetry = retries.increment
        #expect(try post(receiver.url, retry) == 200)
        #expect(receiver.requests.count == 3)
        #expect(retries.value == 2)
    }

    @Test func attemptsAreBoundedAndTheLastFailureIsThrown() throws {
        let receiver = try HTTPReceiver(failFirst: 100)
        var attemptsMade = 0
        #expect {
            _ = try post(receiver.url, HTTPRetry(policy: policy(attempts: 3))) { error, attempts, _ in
                attemptsMade = attempts
                return error
            }
        } throws: { error in
            (error as? HTTPStatusError)?.status == 500
        }
        #expect(attemptsMade == 3)
        #expect(receiver.requests.count == 3)
    }

    @Test func aFailureThrownByTheAttemptIsNotRetried() throws {
        let port = try LoopbackPort.free()
        var attempts = 0
        #expect {
            _ = try HTTPRetry(policy: policy(attempts: 5)).run { (_: Int) -> HTTPRetry.Attempt<Void> in
                attempts += 1
                do {
                    _ = try HTTPClient().perform(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/x"))
                } catch let error as HTTPError where error.isBrokenTransfer {
                    return .retry(error)
                }
                return .done(())
            }
        } throws: { error in
            guard case HTTPError.transport(_, let code, _) = error else { return false }
            return code == 7   // refused: not a broken transfer
        }
        #expect(attempts == 1)
    }

    @Test func aBrokenTransferIsRetried() throws {
        let server = try EchoServer()
        var attemptsMade = 0
        #expect {
            _ = try HTTPRetry(policy: policy(attempts: 2)).run({ (_: Int) -> HTTPRetry.Attempt<Void> in
                do {
                    _ = try HTTPClient().perform(HTTPRequest(method: "GET", url: server.url("/reset")))
                    return .done(())
                } catch let error as HTTPError where error.isBrokenTransfer {
                    return .retry(error)
                }
            }, exhausted: { error, attempts, _ in
                attemptsMade = attempts
                return error
            })
        } throws: { error in
            (error as? HTTPError)?.isBrokenTransfer == true
        }
        #expect(attemptsMade == 2)
    }

    @Test func noAttemptStartsPastTheDeadline() throws {
        let receiver = try HTTPReceiver(failFirst: 100)
        #expect(throws: HTTPStatusError.self) { _ = try post(receiver.url, HTTPRetry(policy: policy(attempts: 5, deadline: 0))) }
        #expect(receiver.requests.count == 1)
    }

    @Test func noAttemptStartsOnceCancelled() throws {
        let receiver = try HTTPReceiver(failFirst: 100)
        let cancellation = HTTPCancellation()
        cancellation.cancel()
        #expect(throws: HTTPStatusError.self) {
            _ = try post(receiver.url, HTTPRetry(policy: policy(attempts: 5), cancellation: cancellation))
        }
        #expect(receiver.requests.count == 1)
    }

    @Test func backoffStaysWithinItsBounds() {
        let jitter = HTTPRetryPolicy(maxAttempts: 12, backoff: .fullJitter(base: 0.1, cap: 5))
        for attempt in 1...40 {
            let ceiling = min(5, 0.1 * pow(2, Double(attempt - 1)))
            let pauses = (0..<50).map { _ in jitter.backoff(after: attempt) }
            #expect(pauses.allSatisfy { $0 >= 0 && $0 <= ceiling }, "attempt \(attempt)")
        }
        let linear = HTTPRetryPolicy(maxAttempts: 3, backoff: .linear(step: 0.5))
        #expect((1...3).map { linear.backoff(after: $0) } == [0.5, 1.0, 1.5])
    }

    @Test func s3PolicyIsTwelveAttemptsInSixtySeconds() {
        #expect(HTTPRetryPolicy.s3.maxAttempts == 12 && HTTPRetryPolicy.s3.deadline == 60)
        #expect(HTTPRetryPolicy.s3.backoff == .fullJitter(base: 0.1, cap: 5))
    }
}

/// A count the retry's `onRetry` raises.
private final class Counter {
    var value = 0
    func increment() { value += 1 }
}
