import Foundation
import Synchronization
import Testing
import DrctlSources
import DrctlTestSupport
@testable import DrctlStorage

/// STS AssumeRoleWithWebIdentity against moto's STS.
@Suite(.serialized) final class WebIdentityCredentialsTests {
    let moto: MotoServer
    let tokenFile: String

    init() throws {
        moto = try MotoServer()
        tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-token-\(UUID().uuidString)").path
        try "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdDpkcmN0bCJ9.c2ln\n"
            .write(toFile: tokenFile, atomically: true, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(atPath: tokenFile) }

    func identity(tokenFile: String? = nil, endpoint: String? = nil) -> WebIdentityCredentials {
        WebIdentityCredentials(roleARN: "arn:aws:iam::123456789012:role/drctl-backup", tokenFile: tokenFile ?? self.tokenFile,
                               sessionName: "drctl-test", endpoint: endpoint ?? moto.endpoint)
    }

    @Test func aTokenBecomesTemporaryCredentialsThatWork() throws {
        let credentials = try identity().fetch()
        #expect(!credentials.accessKeyID.isEmpty && !credentials.secretAccessKey.isEmpty)
        #expect(credentials.sessionToken?.isEmpty == false)
        #expect(!"\(credentials)".contains(credentials.secretAccessKey))
        #expect(credentials.expiration.map { $0 > Date() } == true, "STS's Expiration: \(String(describing: credentials.expiration))")
        // The temporary credentials sign S3 requests (sent with x-amz-security-token).
        try moto.createBucket("web-identity")
        let store = try moto.store(bucket: "web-identity", credentials: credentials)
        try store.put("k", bytes: [1, 2, 3])
        #expect(try store.get("k") == [1, 2, 3])
    }

    /// A store on renewing credentials asks STS again (reading the token file again) when they
    /// near their end; here every request does, and each is signed with what STS just gave.
    @Test func aStoreRenewsTemporaryCredentialsBeforeTheyExpire() throws {
        let identity = identity()
        let fetches = Mutex(0)
        let source = S3CredentialSource(refreshBefore: 1e9) {
            fetches.withLock { $0 += 1 }
            return try identity.fetch()
        }
        try moto.createBucket("web-identity-renewed")
        let store = try S3ObjectStore(endpoint: moto.endpoint, region: MotoServer.region, bucket: "web-identity-renewed",
                                      prefix: "", pathStyle: true, credentials: source)
        try store.put("k", bytes: [4, 5, 6])
        #expect(try store.get("k") == [4, 5, 6])
        #expect(fetches.withLock { $0 } >= 2)

        // The token gone (a renewal fails): the credentials in hand have not expired, so they serve.
        try FileManager.default.removeItem(atPath: tokenFile)
        let before = fetches.withLock { $0 }
        #expect(try store.get("k") == [4, 5, 6])
        #expect(fetches.withLock { $0 } > before)
    }

    @Test func aMissingTokenFileIsNamed() throws {
        let error = #expect(throws: WebIdentityError.self) { _ = try self.identity(tokenFile: "/nonexistent/token").fetch() }
        #expect("\(error!)".contains("/nonexistent/token") && "\(error!)".contains("AWS_WEB_IDENTITY_TOKEN_FILE"), "\(error!)")
    }

    @Test func anUnreachableSTSIsNamed() throws {
        let port = try LoopbackPort.free()
        let error = #expect(throws: WebIdentityError.self) { _ = try self.identity(endpoint: "http://127.0.0.1:\(port)").fetch() }
        #expect("\(error!)".contains("cannot reach STS at http://127.0.0.1:\(port)"), "\(error!)")
    }

    /// STS is one request on the path of every backup to S3 with a service account: a passing
    /// 503 or a reset connection is retried as an S3 request is, not the end of the run.
    @Test func aTransientSTSFaultIsRetried() throws {
        // Every second request is faulted: a 503 SlowDown, then a connection reset.
        let proxy = try FaultProxy(upstream: moto.port, every: 2, faults: ["503", "reset"])
        let identity = identity(endpoint: "http://127.0.0.1:\(proxy.port)")
        for _ in 0..<3 {
            let credentials = try identity.fetch()
            #expect(!credentials.accessKeyID.isEmpty && credentials.sessionToken?.isEmpty == false)
        }
        let stats = try proxy.stats()
        #expect(stats.faults == 2 && stats.requests == 5, "\(stats)")
    }

    @Test func aLastingSTSFaultIsNamedWithItsAttempts() throws {
        let proxy = try FaultProxy(upstream: moto.port, every: 1, faults: ["503"])
        var identity = identity(endpoint: "http://127.0.0.1:\(proxy.port)")
        identity.retryPolicy = HTTPRetryPolicy(maxAttempts: 3, backoff: .linear(step: 0.01))
        let error = #expect(throws: WebIdentityError.self) { _ = try identity.fetch() }
        #expect("\(error!)".contains("STS refused AssumeRoleWithWebIdentity") && "\(error!)".contains("SlowDown")
                && "\(error!)".contains("after 3 attempts"), "\(error!)")
        #expect(try proxy.stats().requests == 3)
    }

    @Test func aRefusalIsNamed() throws {
        // moto's S3 answers at a bucket path with an S3 error, not STS credentials.
        let error = #expect(throws: WebIdentityError.self) {
            _ = try self.identity(endpoint: "http://127.0.0.1:\(self.moto.port)/no-such-bucket").fetch()
        }
        #expect("\(error!)".contains("STS refused AssumeRoleWithWebIdentity for role arn:aws:iam::123456789012:role/drctl-backup"),
                "\(error!)")
    }
}
