import Foundation
import Testing

/// The credential chain through the binary: with no keys anywhere, AWS_ROLE_ARN and
/// AWS_WEB_IDENTITY_TOKEN_FILE (a Kubernetes service account) are exchanged with STS (moto's).
@Suite struct S3WebIdentityTests {
    @Test func aServiceAccountTokenIsEnoughToBackUp() throws {
        let sandbox = try Sandbox()
        let moto = try MotoProcess()
        try moto.createBucket("backups")
        let token = "\(sandbox.root)/token"
        try "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJkcmN0bCJ9.c2ln".write(toFile: token, atomically: true, encoding: .utf8)
        try sandbox.writeS3Policy(endpoint: "http://127.0.0.1:\(moto.port)", command: ["echo", "hello"])
        var environment = ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                           "HOME": sandbox.root, "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/drctl",
                           "AWS_WEB_IDENTITY_TOKEN_FILE": token, "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:\(moto.port)"]
        let backup = try Drctl.run(["backup", "--policy", sandbox.policyPath], environment: environment)
        #expect(backup.status == 0, "\(backup)")
        let out = "\(sandbox.root)/restored"
        let restore = try Drctl.run(["restore", "--policy", sandbox.policyPath, "--target", "files", "--to", out],
                                    environment: environment)
        #expect(restore.status == 0, "\(restore)")
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "hello\n")

        environment["AWS_WEB_IDENTITY_TOKEN_FILE"] = "\(sandbox.root)/missing-token"
        let refused = try Drctl.run(["backup", "--policy", sandbox.policyPath], environment: environment)
        #expect(refused.status == 1 && refused.stderr.contains("missing-token"), "\(refused)")
    }
}
