/// An S3 error answer (`<Error><Code>…</Code><Message>…</Message></Error>`), or what is known of one
/// when the body is missing (HEAD) or not S3's XML.
struct S3ErrorResponse: Sendable, Equatable {
    var status: Int
    /// S3's error code (`SignatureDoesNotMatch`, `NoSuchKey`, …); nil without an XML body.
    var code: String?
    var message: String?

    init(status: Int, code: String?, message: String?) {
        self.status = status
        self.code = code
        self.message = message
    }

    /// Reads the `Error` document in `body`, if there is one.
    init(status: Int, body: [UInt8]) {
        self.status = status
        if let root = S3XMLElement.parse(body), root.name == "Error" {
            code = root.value("Code")
            message = root.value("Message")
        }
    }

    /// True when `body` (of a 200 answer) is an `Error` document: CompleteMultipartUpload and
    /// CopyObject report some failures this way.
    static func isError(_ body: [UInt8]) -> Bool {
        S3XMLElement.parse(body)?.name == "Error"
    }

    /// An explanation for people, naming the S3 code, region and bucket.
    func explanation(region: String, bucket: String) -> String {
        let code = self.code ?? Self.codeGuess(status)
        let hint: String
        switch code {
        case "SignatureDoesNotMatch":
            hint = "signature mismatch: check the secret access key"
        case "InvalidAccessKeyId":
            hint = "the access key ID is not known to the endpoint: check the access key ID"
        case "AccessDenied", "Forbidden":
            hint = "access denied: the credentials lack permission for this operation, or the secret access key is wrong"
        case "NoSuchBucket":
            hint = "bucket '\(bucket)' does not exist"
        case "RequestTimeTooSkewed":
            hint = "clock skew: this machine's clock is too far from the endpoint's; synchronize it (NTP)"
        case "AuthorizationHeaderMalformed", "IncorrectEndpoint", "PermanentRedirect", "Moved":
            hint = "the bucket is not in region '\(region)' or not at this endpoint"
        case "ExpiredToken", "InvalidToken", "TokenRefreshRequired":
            hint = "the session token is expired or invalid: renew the credentials"
        case "SlowDown", "ServiceUnavailable", "InternalError":
            hint = "the endpoint is overloaded or failing"
        case _ where Self.refusesChecksums(code: code, message: message):
            hint = "the endpoint refuses S3 additional checksums: set `checksums: false` on this region in the policy"
        case "BadDigest", "XAmzContentSHA256Mismatch":
            hint = "the body the endpoint received did not match its digest: damaged on the way (network, proxy)"
        default:
            hint = "S3 refused the request"
        }
        var text = "\(hint) (S3 \(code), HTTP \(status), region \(region), bucket \(bucket))"
        if let message, !message.isEmpty { text += ": \(message)" }
        return text
    }

    /// An answer like Backblaze B2's "Unsupported header 'x-amz-checksum-sha256' received for this
    /// API call." (or 'x-amz-sdk-checksum-algorithm', 'x-amz-checksum-algorithm').
    static func refusesChecksums(code: String, message: String?) -> Bool {
        guard ["InvalidArgument", "InvalidRequest", "NotImplemented"].contains(code),
              let message = message?.lowercased() else { return false }
        return message.contains("x-amz-checksum") || message.contains("x-amz-sdk-checksum")
    }

    /// The code a body-less answer (HEAD) most likely stands for.
    static func codeGuess(_ status: Int) -> String {
        switch status {
        case 301: return "PermanentRedirect"
        case 400: return "BadRequest"
        case 403: return "Forbidden"
        case 404: return "NotFound"
        case 412: return "PreconditionFailed"
        case 500: return "InternalError"
        case 503: return "ServiceUnavailable"
        default: return "HTTP\(status)"
        }
    }
}
