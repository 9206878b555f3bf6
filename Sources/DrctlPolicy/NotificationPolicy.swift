/// Where drctl says that something needs a person: top-level `notifications:` of the policy.
/// Sent when a backup fails, is degraded or recovers, and when a drill fails or misses an
/// objective; never changes the outcome of the run.
public struct NotificationChannel: Sendable, Equatable {
    /// The shape of the POST (docs/POLICY.md, "Notifications").
    public enum Kind: String, Sendable, CaseIterable {
        /// drctl's own JSON document.
        case webhook
        /// `{"text": ...}`, as Slack (and Mattermost, Rocket.Chat) incoming webhooks take it.
        case slack
        /// A list of alerts for Alertmanager's `/api/v2/alerts`; a recovery resolves the alert.
        case alertmanager
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
