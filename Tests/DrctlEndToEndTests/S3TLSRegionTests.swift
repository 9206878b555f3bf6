import Foundation
import Testing
import DrctlSources
import DrctlTestSupport

/// Regions on an HTTPS endpoint whose certificate a private authority signed (moto behind a TLS
/// relay): trusted through the policy's `ca_file`, refused without it, and let through by
/// `insecure_skip_tls_verify` only with a warning from every command.
@Suite struct S3TLSRegionTests {
    /// A sandbox whose one S3 region is moto behind a TLS proxy presenting a certificate for
    /// `names`, and whose one target reads `bytes` random bytes.
    struct TLSRegion {
        let sandbox: Sandbox
        let moto: MotoProcess
        let certificates: TestCertificates
        let proxy: TLSProxy
        let input: String

        init(names: [String], bytes: Int) throws {
            sandbox = try Sandbox()
            moto = try MotoProcess()
            try moto.createBucket("backups")
            certificates = try TestCertificates()
            proxy = try TLSProxy(upstream: moto.port, certificate: certificates.server("s3", names: names))
            input = "\(sandbox.root)/input"
            try Command.shell("head -c \(bytes) /dev/urandom > '\(input)'")
        }

        /// The policy, with these TLS settings on the region.
        func policy(_ settings: [String] = []) throws {
            try sandbox.writeS3Policy(endpoint: proxy.endpoint, settings: settings, command: ["cat", input])
        }

        func drctl(_ arguments: [String]) throws -> Drctl.Result {
            try Drctl.run(arguments + ["--policy", sandbox.policyPath],
                          environment: ["AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "moto-does-not-check"])
        }
    }

    @Test func aPrivateAuthorityInCAFileIsTrustedAndItsAbsenceNamed() throws {
        let region = try TLSRegion(names: ["IP:127.0.0.1"], bytes: 7_000_000)
        try region.policy()
        let refused = try region.drctl(["backup"])
        #expect(refused.status != 0 && refused.stderr.contains("TLS certificate not accepted")
                && refused.stderr.contains("ca_file"), "\(refused)")
        #expect(try region.proxy.relayed().isEmpty)

        try region.policy(["ca_file: \(region.certificates.authority)"])
        let backup = try region.drctl(["backup"])
        #expect(backup.status == 0, "\(backup)")
        #expect(!backup.stderr.contains("insecure_skip_tls_verify"), "\(backup)")
        let out = "\(region.sandbox.root)/restored"
        let restore = try region.drctl(["restore", "--target", "files", "--to", out])
        #expect(restore.status == 0, "\(restore)")
        #expect(try region.sandbox.sha256(out) == region.sandbox.sha256(region.input))
    }

    @Test func skippingVerificationWorksAndEveryCommandSaysSo() throws {
        let region = try TLSRegion(names: ["DNS:elsewhere.example"], bytes: 100_000)
        try region.policy(["insecure_skip_tls_verify: true"])

        let validate = try Drctl.run(["policy", "validate", region.sandbox.policyPath])
        #expect(validate.status == 0 && validate.stderr.contains("warning: region 's3': insecure_skip_tls_verify"),
                "\(validate)")
        for arguments in [["backup"], ["list"], ["verify"]] {
            let run = try region.drctl(arguments)
            #expect(run.status == 0, "\(run)")
            #expect(run.stderr.contains("TLS certificate verification is OFF") && run.stderr.contains("region=s3"),
                    "\(arguments): \(run.stderr)")
        }
    }
}
