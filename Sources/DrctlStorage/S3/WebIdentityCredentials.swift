import Foundation

/// Credentials for a Kubernetes service account (EKS IRSA and the like): the projected token in
/// `tokenFile` is exchanged for temporary credentials of `roleARN` with STS
/// AssumeRoleWithWebIdentity. The request is not signed (the token is the proof), so no other
/// credentials are needed. The credentials last as STS says (1 h by default, `Expiration`); a
/// store gets them through an `S3CredentialSource` that fetches them again, with the token
/// file read again (the kubelet rotates it), before they expire.
public struct WebIdentityCredentials: Sendable {
    public var roleARN: String
    public var tokenFile: String
    public var sessionName: String
    /// `https://sts.<region>.amazonaws.com` unless set (`AWS_ENDPOINT_URL_STS`).
    public var endpoint: String
    public var settings: HTTPSettings

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
        let request = HTTPRequest(method: "POST", url: base + "/",
                                  headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
                                  body: HTTPRequestBody(bytes: Array(form.utf8)))
        let response: HTTPResponse
        let body: [UInt8]
        do {
            (response, body) = try HTTPClient(settings: settings).perform(request, limit: 1 << 20)
        } catch {
            throw WebIdentityError("cannot reach STS at \(endpoint) for AssumeRoleWithWebIdentity: \(error)")
        }
        let root = S3XMLElement.parse(body)
        guard response.status == 200, let root, let credentials = Self.find(root, "Credentials"),
              let keyID = credentials.value("AccessKeyId"), let secret = credentials.value("SecretAccessKey"),
              !keyID.isEmpty, !secret.isEmpty else {
            let code = root.flatMap { Self.find($0, "Code")?.text } ?? "HTTP \(response.status)"
            let message = root.flatMap { Self.find($0, "Message")?.text } ?? ""
            throw WebIdentityError("STS refused AssumeRoleWithWebIdentity for role \(roleARN): \(code) \(message)"
                .trimmingCharacters(in: .whitespaces))
        }
        return S3Credentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: credentials.value("SessionToken"),
                             expiration: credentials.value("Expiration").flatMap(Timestamp.parse))
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
