import Foundation
import Synchronization
import Testing
@testable import DrctlStorage

@Suite struct S3CredentialSourceTests {
    final class Fetches: Sendable {
        let count = Mutex(0)
        let failing = Mutex(false)
        let lifetime: TimeInterval

        init(lifetime: TimeInterval) { self.lifetime = lifetime }

        func fetch() throws -> S3Credentials {
            struct Refused: Error {}
            if failing.withLock({ $0 }) { throw Refused() }
            let number = count.withLock { $0 += 1; return $0 }
            return S3Credentials(accessKeyID: "AKIA\(number)", secretAccessKey: "s", sessionToken: "t",
                                 expiration: Date().addingTimeInterval(lifetime))
        }
    }

    @Test func fixedCredentialsAreNeverFetched() throws {
        let given = S3Credentials(accessKeyID: "AKIA", secretAccessKey: "s", expiration: Date(timeIntervalSince1970: 0))
        #expect(try S3CredentialSource(fixed: given).current() == given)
    }

    @Test func temporaryCredentialsAreFetchedOnceWhileFarFromExpiring() throws {
        let fetches = Fetches(lifetime: 3600)
        let source = S3CredentialSource(refreshBefore: 300) { try fetches.fetch() }
        #expect(fetches.count.withLock { $0 } == 0)
        let first = try source.current()
        #expect(try source.current() == first)
        #expect(try source.current(now: Date().addingTimeInterval(3000)) == first)
        #expect(fetches.count.withLock { $0 } == 1)
    }

    @Test func temporaryCredentialsAreRenewedBeforeTheyExpire() throws {
        let fetches = Fetches(lifetime: 3600)
        let source = S3CredentialSource(refreshBefore: 300) { try fetches.fetch() }
        #expect(try source.current().accessKeyID == "AKIA1")
        #expect(try source.current(now: Date().addingTimeInterval(3400)).accessKeyID == "AKIA2")
        #expect(fetches.count.withLock { $0 } == 2)
    }

    @Test func aFailedRenewalKeepsCredentialsThatStillWorkAndFailsOnceTheyDoNot() throws {
        let fetches = Fetches(lifetime: 3600)
        let source = S3CredentialSource(refreshBefore: 300) { try fetches.fetch() }
        _ = try source.current()
        fetches.failing.withLock { $0 = true }
        #expect(try source.current(now: Date().addingTimeInterval(3400)).accessKeyID == "AKIA1")
        #expect(throws: (any Error).self) { try source.current(now: Date().addingTimeInterval(3700)) }
        fetches.failing.withLock { $0 = false }
        #expect(try source.current(now: Date().addingTimeInterval(3700)).accessKeyID == "AKIA2")
    }

    /// A store whose credentials cannot be had sends nothing and names the renewal's cause.
    @Test func aStoreWithoutCredentialsNamesTheRenewalsError() throws {
        struct TokenGone: Error, CustomStringConvertible { var description: String { "the token file is gone" } }
        let source = S3CredentialSource { throw TokenGone() }
        let store = try S3ObjectStore(endpoint: "http://127.0.0.1:9", region: "us-east-1", bucket: "b", prefix: "",
                                      pathStyle: true, credentials: source)
        #expect {
            _ = try store.get("k")
        } throws: { error in
            "\(error)".contains("cannot renew the S3 credentials") && "\(error)".contains("the token file is gone")
        }
    }

    /// STS's `Expiration` (WebIdentityCredentials reads it with `Timestamp.parse`).
    @Test func stsExpirationTimestampsAreRead() {
        #expect(Timestamp.parse("2026-12-02T07:00:00Z") == Date(timeIntervalSince1970: 1_796_194_800))
        #expect(Timestamp.parse("2026-12-02T07:00:00.500Z") == Date(timeIntervalSince1970: 1_796_194_800.5))
        #expect(Timestamp.parse("tomorrow") == nil)
    }
}
