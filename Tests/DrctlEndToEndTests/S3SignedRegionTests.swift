import Foundation
import Testing
import DrctlSources
import DrctlTestSupport

/// The binary against a moto that checks every signature (`INITIAL_NO_AUTH_ACTION_COUNT=3`: the
/// first three requests, made by aws-cli, create an IAM user, its allow-all policy and its access
/// key; everything after is signed and checked). A backup with the right key cannot pass here:
/// it lists `locks/<target>/`, and moto 5.2 refuses correctly signed requests whose query values
/// hold a `/` (aws-cli's `list-objects-v2 --prefix a/` too), so the signed round trip is the
/// store's (`S3SignedRequestTests`) and the CLI's runs on plain moto (`S3RegionTests`).
@Suite struct S3SignedRegionTests {
    @Test func aWrongSecretIsNamedWithItsExitCodeAndLeavesNothing() throws {
        let sandbox = try Sandbox()
        let moto = try MotoProcess(noAuthActions: 3)
        let endpoint = "http://127.0.0.1:\(moto.port)"
        func aws(_ arguments: [String], key: [String: String]) throws -> String {
            let run = try ChildProcess.run([try PythonTools.aws, "--endpoint-url", endpoint, "--output", "json"] + arguments,
                                           environment: .inherited(adding: key.merging(["AWS_DEFAULT_REGION": "us-east-1"]) { $1 }))
            guard run.exit.succeeded else { throw MotoProcess.Failure(message: "aws \(arguments): \(run.stderr)") }
            return run.stdout
        }
        let anyone = ["AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "not-yet-checked"]
        _ = try aws(["iam", "create-user", "--user-name", "drctl"], key: anyone)
        _ = try aws(["iam", "put-user-policy", "--user-name", "drctl", "--policy-name", "all", "--policy-document",
                     #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#], key: anyone)
        let created = try JSONSerialization.jsonObject(
            with: Data(try aws(["iam", "create-access-key", "--user-name", "drctl"], key: anyone).utf8)) as? [String: Any]
        let accessKey = try #require(created?["AccessKey"] as? [String: Any])
        let key = ["AWS_ACCESS_KEY_ID": try #require(accessKey["AccessKeyId"] as? String),
                   "AWS_SECRET_ACCESS_KEY": try #require(accessKey["SecretAccessKey"] as? String)]
        // From here on moto checks signatures: the unsigned guess is refused, the key's requests pass.
        #expect(throws: MotoProcess.Failure.self) { try aws(["s3", "mb", "s3://refused"], key: anyone) }
        _ = try aws(["s3", "mb", "s3://backups"], key: key)

        let input = "\(sandbox.root)/input"
        try Command.shell("head -c 12000000 /dev/urandom > '\(input)'")
        try sandbox.writeS3Policy(endpoint: endpoint, command: ["cat", input])
        var wrong = key
        wrong["AWS_SECRET_ACCESS_KEY"] = "wrong" + key["AWS_SECRET_ACCESS_KEY"]!
        for command in ["backup", "list"] {
            let refused = try Drctl.run([command, "--policy", sandbox.policyPath], environment: wrong)
            #expect(refused.status == 1, "\(refused)")
            #expect(refused.stderr.contains("signature mismatch: check the secret access key")
                    && refused.stderr.contains("SignatureDoesNotMatch"), "\(refused)")
            // The last line, the one a cron mail or a monitor shows, names the cause itself.
            let last = refused.stderr.split(separator: "\n").last.map(String.init) ?? ""
            #expect(last.contains("signature mismatch") && last.contains("'s3'"), "\(command): \(last)")
            // The wrong secret ends with the right one: neither is in the message.
            #expect(!refused.stderr.contains(key["AWS_SECRET_ACCESS_KEY"]!), "\(refused)")
        }
        // Nothing was written, and no upload was left behind (queries without a `/`, which moto checks right).
        func listed(_ operation: String, _ field: String) throws -> [Any] {
            let answer = try aws(["s3api", operation, "--bucket", "backups"], key: key)
            let object = try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any]
            return object?[field] as? [Any] ?? []
        }
        #expect(try listed("list-objects-v2", "Contents").isEmpty)
        #expect(try listed("list-multipart-uploads", "Uploads").isEmpty)
    }
}
