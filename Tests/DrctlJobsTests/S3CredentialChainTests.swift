import Foundation
import Testing
@testable import DrctlJobs
import DrctlPolicy
@testable import DrctlStorage

/// Where a region's credentials come from, first match wins: the policy's secret references, the
/// environment, a web identity (S3WebIdentityTests), the shared credentials file.
@Suite final class S3CredentialChainTests {
    let root: String
    init() throws {
        root = NSTemporaryDirectory() + "drctl-credentials-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: root) }

    func resolve(_ environment: [String: String], settings: S3Settings = S3Settings()) throws -> S3Credentials {
        try S3CredentialChain.resolve(settings, region: "r1", environment: ["HOME": root].merging(environment) { $1 }).current()
    }

    func write(_ text: String, _ name: String) throws -> String {
        let path = "\(root)/\(name)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func thePolicysReferencesComeFirst() throws {
        let settings = S3Settings(accessKeyID: .file(try write("AKIAFROMFILE\n", "id")),
                                  secretAccessKey: .env("MOUNTED_SECRET"), sessionToken: .file(try write("token\r\n", "token")))
        let credentials = try resolve(["MOUNTED_SECRET": "from-policy", "AWS_ACCESS_KEY_ID": "AKIAENV",
                                       "AWS_SECRET_ACCESS_KEY": "from-env"], settings: settings)
        #expect(credentials == S3Credentials(accessKeyID: "AKIAFROMFILE", secretAccessKey: "from-policy", sessionToken: "token"))
    }

    @Test func thenTheEnvironmentThenTheSharedFile() throws {
        _ = try write("""
            # a comment
            [default]
            aws_access_key_id = AKIADEFAULT
            aws_secret_access_key=default-secret
            [backup]
            AWS_ACCESS_KEY_ID = AKIABACKUP
            aws_secret_access_key = backup secret
            aws_session_token = backup-token
            """, "credentials")
        let file = "\(root)/credentials"
        #expect(try resolve(["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "env", "AWS_SESSION_TOKEN": "t",
                             "AWS_SHARED_CREDENTIALS_FILE": file])
                == S3Credentials(accessKeyID: "AKIAENV", secretAccessKey: "env", sessionToken: "t"))
        // An empty variable is no key: the file's default profile.
        #expect(try resolve(["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SHARED_CREDENTIALS_FILE": file])
                == S3Credentials(accessKeyID: "AKIADEFAULT", secretAccessKey: "default-secret"))
        #expect(try resolve(["AWS_SHARED_CREDENTIALS_FILE": file, "AWS_PROFILE": "backup"])
                == S3Credentials(accessKeyID: "AKIABACKUP", secretAccessKey: "backup secret", sessionToken: "backup-token"))
        // ~/.aws/credentials when no file is named.
        try FileManager.default.createDirectory(atPath: "\(root)/.aws", withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: file, toPath: "\(root)/.aws/credentials")
        #expect(try resolve([:]).accessKeyID == "AKIADEFAULT")
    }

    @Test func nothingFoundNamesEverySourceSearched() throws {
        let file = try write("[default]\naws_access_key_id = AKIAONLYID\n", "credentials")
        let error = #expect(throws: JobError.self) {
            try resolve(["AWS_SHARED_CREDENTIALS_FILE": file, "AWS_PROFILE": "missing"])
        }
        let message = "\(error.map { "\($0)" } ?? "")"
        #expect(message.contains("AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY") && message.contains("AWS_WEB_IDENTITY_TOKEN_FILE")
                && message.contains("profile 'missing' of \(file)") && message.contains("r1"), "\(message)")
        // A profile with a key ID but no secret is not credentials either.
        #expect(throws: JobError.self) { try resolve(["AWS_SHARED_CREDENTIALS_FILE": file]) }
        // A policy reference that cannot be read names itself, not the secret.
        let unreadable = #expect(throws: (any Error).self) {
            try resolve([:], settings: S3Settings(accessKeyID: .env("UNSET_KEY_ID"), secretAccessKey: .env("UNSET_SECRET")))
        }
        #expect("\(unreadable.map { "\($0)" } ?? "")".contains("UNSET_KEY_ID"))
    }
}
