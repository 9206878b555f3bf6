/// Where drctl says that something needs a person: top-level `notifications:` of the policy.
/// Sent when a drill fails or misses an objective; never changes the outcome of the run.
public struct NotificationChannel: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// An HTTP POST of a JSON document (docs/POLICY.md, "Notifications").
        case webhook
    }

    public var kind: Kind
    /// `http(s)://...`
    public var url: String
    /// Extra request headers; values are secrets (they usually carry a token).
    public var headers: [String: SecretReference]

    public init(kind: Kind, url: String, headers: [String: SecretReference] = [:]) {
        self.kind = kind
        self.url = url
        self.headers = headers
    }
}
