import Foundation
import DrctlPolicy
import DrctlStorage

/// Where an S3 region's credentials come from, first match wins: the policy's secret
/// references; the environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`); a Kubernetes web identity (`AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE`,
/// exchanged with STS); the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE` or
/// `~/.aws/credentials`, profile `AWS_PROFILE` or `default`).
enum S3CredentialChain {
    static func resolve(_ settings: S3Settings, region: String,
                        environment: [String: String] = ProcessInfo.processInfo.environment) throws -> S3CredentialSource {
        if let credentials = try given(settings, environment) { return S3CredentialSource(fixed: credentials) }
        if let identity = webIdentity(environment) {
            let source = S3CredentialSource { try identity.fetch() }
            _ = try source.current()   // fail now, with STS's answer, rather than at the first request
            return source
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let file = environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "\(home)/.aws/credentials"
        let profile = environment["AWS_PROFILE"] ?? "default"
        if let text = try? String(contentsOfFile: file, encoding: .utf8),
           let values = sharedCredentials(text, profile: profile),
           let keyID = values["aws_access_key_id"], let secret = values["aws_secret_access_key"] {
            return S3CredentialSource(fixed: S3Credentials(accessKeyID: keyID, secretAccessKey: secret,
                                                           sessionToken: values["aws_session_token"]))
        }
        throw JobError.noCredentials(region: region, searched: "the policy's access_key_id/secret_access_key, "
            + "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_ROLE_ARN/AWS_WEB_IDENTITY_TOKEN_FILE, profile '\(profile)' of \(file)")
    }

    /// A key pair the policy's secret references or the environment give.
    private static func given(_ settings: S3Settings, _ environment: [String: String]) throws -> S3Credentials? {
        if let keyID = settings.accessKeyID, let secret = settings.secretAccessKey {
            return S3Credentials(accessKeyID: try keyID.resolve(environment: environment),
                                 secretAccessKey: try secret.resolve(environment: environment),
                                 sessionToken: try settings.sessionToken?.resolve(environment: environment))
        }
        if let keyID = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"],
           !keyID.isEmpty, !secret.isEmpty {
            return S3Credentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: environment["AWS_SESSION_TOKEN"])
        }
        return nil
    }

    /// A Kubernetes service account's role: `AWS_ROLE_ARN` and `AWS_WEB_IDENTITY_TOKEN_FILE`
    /// (`AWS_ROLE_SESSION_NAME`, `AWS_ENDPOINT_URL_STS`, `AWS_REGION` optional).
    static func webIdentity(_ environment: [String: String]) -> WebIdentityCredentials? {
        guard let role = environment["AWS_ROLE_ARN"], let tokenFile = environment["AWS_WEB_IDENTITY_TOKEN_FILE"],
              !role.isEmpty, !tokenFile.isEmpty else { return nil }
        let region = environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        return WebIdentityCredentials(
            roleARN: role, tokenFile: tokenFile,
            sessionName: environment["AWS_ROLE_SESSION_NAME"] ?? "drctl-\(Int(Date().timeIntervalSince1970))",
            endpoint: environment["AWS_ENDPOINT_URL_STS"] ?? "https://sts.\(region).amazonaws.com")
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
