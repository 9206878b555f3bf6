import Foundation
import Testing
import DrctlSources
import DrctlTestSupport

/// Regions on an HTTPS endpoint whose certificate a private authority signed (moto behind a TLS
/// relay): trusted through the policy's `ca_file`, refused without it, and let through by
/// `insecure_skip_tls_verify` only with a warning from every command.
@Suite struct S3TLSRegionTests {
    static let credentials = ["AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "moto-does-not-check"]

    @Test func aPrivateAuthorityInCAFileIsTrustedAndItsAbsenceNamed() throws {
        let sandbox = try Sandbox()
        let moto = try MotoProcess()
        try moto.createBucket("backups")
        let certificates = try TestCertificates()
        let proxy = try TLSProxy(upstream: moto.port, certificate: certificates.server("s3", names: ["IP:127.0.0.1"]))
        let input = "\(sandbox.root)/input"
        try Command.shell("head -c 7000000 /dev/urandom > '\(input)'")

        try sandbox.writeS3Policy(endpoint: proxy.endpoint, command: ["cat", input])
        let refused = try Drctl.run(["backup", "--policy", sandbox.policyPath], environment: Self.credentials)
        #expect(refused.status != 0 && refused.stderr.contains("TLS certificate not accepted")
                && refused.stderr.contains("ca_file"), "\(refused)")
        #expect(try proxy.relayed().isEmpty)

        try sandbox.writeS3Policy(endpoint: proxy.endpoint, settings: ["ca_file: \(certificates.authority)"], command: ["cat", input])
        let backup = try Drctl.run(["backup", "--policy", sandbox.policyPath], environment: Self.credentials)
        #expect(backup.status == 0, "\(backup)")
        #expect(!backup.stderr.contains("insecure_skip_tls_verify"), "\(backup)")
        let out = "\(sandbox.root)/restored"
        let restore = try Drctl.run(["restore", "--policy", sandbox.policyPath, "--target", "files", "--to", out],
                                    environment: Self.credentials)
        #expect(restore.status == 0, "\(restore)")
        #expect(try sandbox.sha256(out) == sandbox.sha256(input))
    }

    @Test func skippingVerificationWorksAndEveryCommandSaysSo() throws {
        let sandbox = try Sandbox()
        let moto = try MotoProcess()
        try moto.createBucket("backups")
        let certificates = try TestCertificates()
        let proxy = try TLSProxy(upstream: moto.port, certificate: certificates.server("s3", names: ["DNS:elsewhere.example"]))
        let input = "\(sandbox.root)/input"
        try Command.shell("head -c 100000 /dev/urandom > '\(input)'")
        try sandbox.writeS3Policy(endpoint: proxy.endpoint, settings: ["insecure_skip_tls_verify: true"], command: ["cat", input])

        let validate = try Drctl.run(["policy", "validate", sandbox.policyPath])
        #expect(validate.status == 0 && validate.stderr.contains("warning: region 's3': insecure_skip_tls_verify"),
                "\(validate)")
        for arguments in [["backup"], ["list"], ["verify"]] {
            let run = try Drctl.run(arguments + ["--policy", sandbox.policyPath], environment: Self.credentials)
            #expect(run.status == 0, "\(run)")
            #expect(run.stderr.contains("TLS certificate verification is OFF") && run.stderr.contains("region=s3"),
                    "\(arguments): \(run.stderr)")
        }
    }
}
