import Foundation
import Testing
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
        // The temporary credentials sign S3 requests (sent with x-amz-security-token).
        try moto.createBucket("web-identity")
        let store = try moto.store(bucket: "web-identity", credentials: credentials)
        try store.put("k", bytes: [1, 2, 3])
        #expect(try store.get("k") == [1, 2, 3])
    }

    @Test func aMissingTokenFileIsNamed() throws {
        let error = #expect(throws: WebIdentityError.self) { _ = try self.identity(tokenFile: "/nonexistent/token").fetch() }
        #expect("\(error!)".contains("/nonexistent/token") && "\(error!)".contains("AWS_WEB_IDENTITY_TOKEN_FILE"), "\(error!)")
    }

    @Test func anUnreachableSTSIsNamed() throws {
        let port = try MotoServer.freePort()
        let error = #expect(throws: WebIdentityError.self) { _ = try self.identity(endpoint: "http://127.0.0.1:\(port)").fetch() }
        #expect("\(error!)".contains("cannot reach STS at http://127.0.0.1:\(port)"), "\(error!)")
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
