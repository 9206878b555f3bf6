import Foundation

/// Credentials for a Kubernetes service account (EKS IRSA and the like): the projected token in
/// `tokenFile` is exchanged for temporary credentials of `roleARN` with STS
/// AssumeRoleWithWebIdentity. The request is not signed (the token is the proof), so no other
/// credentials are needed. The credentials last as STS says (1 h by default, `Expiration`); a
/// store gets them through an `S3CredentialSource` that fetches them again, with the token
/// file read again (the kubelet rotates it), before they expire.
///
/// STS is one more request on the path of every backup to S3 with a service account: a
/// transient fault there (a 5xx, throttling, a reset connection) is retried as an S3 request's
/// is (`retryPolicy`, `HTTPRetry`), not the end of the run.
public struct WebIdentityCredentials: Sendable {
    public var roleARN: String
    public var tokenFile: String
    public var sessionName: String
    /// `https://sts.<region>.amazonaws.com` unless set (`AWS_ENDPOINT_URL_STS`).
    public var endpoint: String
    public var settings: HTTPSettings
    /// The attempts at STS (S3's: AssumeRoleWithWebIdentity changes nothing, so every attempt can be replayed).
    public var retryPolicy = HTTPRetryPolicy.s3

    public init(roleARN: String, tokenFile: String, sessionName: String, endpoint: String,
                settings: HTTPSettings = HTTPSettings()) {
        self.roleARN = roleARN
        self.tokenFile = tokenFile
        self.sessionName = sessionName
        self.endpoint = endpoint
        self.settings = settings
    }

    public func fetch() throws -> S3Credentials {
        let token: String
        do {
            token = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw WebIdentityError("cannot read the web identity token file \(tokenFile) (AWS_WEB_IDENTITY_TOKEN_FILE): \(error.localizedDescription)")
        }
        guard !token.isEmpty else { throw WebIdentityError("the web identity token file \(tokenFile) is empty") }
        let form = [("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", roleARN),
                    ("RoleSessionName", sessionName), ("WebIdentityToken", token)]
            .map { "\($0.0)=\(SignatureV4.uriEncode($0.1, keepingSlash: false))" }
            .joined(separator: "&")
        var base = endpoint
        while base.hasSuffix("/") { base.removeLast() }
        let client = HTTPClient(settings: settings)
        let (response, body) = try HTTPRetry(policy: retryPolicy).run({ (_: Int) -> HTTPRetry.Attempt<(HTTPResponse, [UInt8])> in
            // A request's body is read as it is sent: each attempt gets its own.
            let request = HTTPRequest(method: "POST", url: base + "/",
                                      headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
                                      body: HTTPRequestBody(bytes: Array(form.utf8)))
            let answer: (HTTPResponse, [UInt8])
            do {
                answer = try client.perform(request, limit: 1 << 20)
            } catch let error as HTTPError where error.isBrokenTransfer {
                return .retry(WebIdentityError("cannot reach STS at \(endpoint) for AssumeRoleWithWebIdentity: \(error)"))
            } catch {
                throw WebIdentityError("cannot reach STS at \(endpoint) for AssumeRoleWithWebIdentity: \(error)")
            }
            // STS's throttling, and its failure to reach the identity provider, are worth another attempt too.
            let error = S3ErrorResponse(status: answer.0.status, body: answer.1)
            guard error.isRetryable || ["Throttling", "IDPCommunicationError"].contains(error.code) else { return .done(answer) }
            return .retry(refusal(answer.0, answer.1))
        }, exhausted: { failure, attempts, elapsed in
            WebIdentityError("\(failure) (gave up after \(attempts) attempts in \(String(format: "%.1f", elapsed)) s)")
        })
        let root = S3XMLElement.parse(body)
        guard response.status == 200, let root, let credentials = Self.find(root, "Credentials"),
              let keyID = credentials.value("AccessKeyId"), let secret = credentials.value("SecretAccessKey"),
              !keyID.isEmpty, !secret.isEmpty else {
            throw refusal(response, body)
        }
        return S3Credentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: credentials.value("SessionToken"),
                             expiration: credentials.value("Expiration").flatMap(Timestamp.parse))
    }

    /// Why STS did not answer with credentials: its error code and message, or the HTTP status.
    private func refusal(_ response: HTTPResponse, _ body: [UInt8]) -> WebIdentityError {
        let root = S3XMLElement.parse(body)
        let code = root.flatMap { Self.find($0, "Code")?.text } ?? "HTTP \(response.status)"
        let message = root.flatMap { Self.find($0, "Message")?.text } ?? ""
        return WebIdentityError("STS refused AssumeRoleWithWebIdentity for role \(roleARN): \(code) \(message)"
            .trimmingCharacters(in: .whitespaces))
    }

    private static func find(_ element: S3XMLElement, _ name: String) -> S3XMLElement? {
        if element.name == name { return element }
        for child in element.children {
            if let found = find(child, name) { return found }
        }
        return nil
    }
}

public struct WebIdentityError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
