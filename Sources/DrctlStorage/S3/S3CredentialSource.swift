import Foundation
import Synchronization

/// Where an S3 store gets the credentials each request is signed with: fixed ones (a key pair
/// from the policy, the environment or a credentials file), or temporary ones fetched again
/// before they expire (STS web identity: 1 h by default, shorter than a large backup takes).
///
/// A refresh that fails while the credentials in hand are still valid keeps them: the next
/// request tries again, and only a request that would go out with expired ones fails.
public final class S3CredentialSource: Sendable {
    private let fetch: (@Sendable () throws -> S3Credentials)?
    private let refreshBefore: TimeInterval
    private let cached: Mutex<S3Credentials?>

    /// Credentials that never change.
    public init(fixed credentials: S3Credentials) {
        fetch = nil
        refreshBefore = 0
        cached = Mutex(credentials)
    }

    /// Credentials from `fetch`, fetched on first use and again once fewer than `refreshBefore`
    /// seconds remain of their `expiration` (never again when they have none).
    public init(refreshBefore: TimeInterval = 300, fetch: @escaping @Sendable () throws -> S3Credentials) {
        self.fetch = fetch
        self.refreshBefore = refreshBefore
        cached = Mutex(nil)
    }

    /// The credentials to sign a request with now.
    public func current(now: Date = Date()) throws -> S3Credentials {
        try cached.withLock { cached in
            if let held = cached, !needsRefresh(held, now: now) { return held }
            guard let fetch else { return cached! }
            do {
                let fresh = try fetch()
                cached = fresh
                return fresh
            } catch {
                if let held = cached, let expiration = held.expiration, now < expiration { return held }
                throw error
            }
        }
    }

    private func needsRefresh(_ credentials: S3Credentials, now: Date) -> Bool {
        guard fetch != nil, let expiration = credentials.expiration else { return false }
        return now >= expiration.addingTimeInterval(-refreshBefore)
    }
}
