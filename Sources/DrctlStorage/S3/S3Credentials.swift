import Foundation

/// The key pair (and, for temporary credentials, the session token) that S3 requests are signed with.
///
/// `description` never shows the secret or the token, so a credential that ends up in a log line or an
/// error message gives nothing away.
public struct S3Credentials: Sendable, Equatable, CustomStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: String
    /// Present for temporary (STS) credentials; sent and signed as `x-amz-security-token`.
    public var sessionToken: String?
    /// When temporary credentials stop working; nil for long-term ones.
    public var expiration: Date?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }

    public var description: String {
        "S3Credentials(accessKeyID: \(accessKeyID), secretAccessKey: <redacted>"
            + (sessionToken == nil ? ")" : ", sessionToken: <redacted>)")
    }
}
