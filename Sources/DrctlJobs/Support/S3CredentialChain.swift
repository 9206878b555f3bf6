import Foundation
import DrctlPolicy
import DrctlStorage

/// Where an S3 region's credentials come from, first match wins: the policy's secret
/// references; the environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`); the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE` or
/// `~/.aws/credentials`, profile `AWS_PROFILE` or `default`).
enum S3CredentialChain {
    static func resolve(_ settings: S3Settings, region: String,
                        environment: [String: String] = ProcessInfo.processInfo.environment) throws -> S3Credentials {
        if let keyID = settings.accessKeyID, let secret = settings.secretAccessKey {
            return S3Credentials(accessKeyID: try keyID.resolve(), secretAccessKey: try secret.resolve(),
                                 sessionToken: try settings.sessionToken?.resolve())
        }
        if let keyID = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"],
           !keyID.isEmpty, !secret.isEmpty {
            return S3Credentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"])
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let file = environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "\(home)/.aws/credentials"
        let profile = environment["AWS_PROFILE"] ?? "default"
        if let text = try? String(contentsOfFile: file, encoding: .utf8),
           let values = sharedCredentials(text, profile: profile),
           let keyID = values["aws_access_key_id"], let secret = values["aws_secret_access_key"] {
            return S3Credentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: values["aws_session_token"])
        }
        throw JobError.noCredentials(region: region, searched: "the policy's access_key_id/secret_access_key, "
            + "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profile '\(profile)' of \(file)")
    }

    /// The `key = value` lines of `[profile]` in an INI file.
    static func sharedCredentials(_ text: String, profile: String) -> [String: String]? {
        var current: String?
        var values: [String: String] = [:]
        var found = false
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                current = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                if current == profile { found = true }
                continue
            }
            guard current == profile, let equals = line.firstIndex(of: "=") else { continue }
            values[line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()] =
                line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        }
        return found ? values : nil
    }
}
