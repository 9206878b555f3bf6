import Yams

extension PolicyValidator {
    /// `notifications: [{kind: webhook | slack | alertmanager, url: URL, headers: {NAME: secret}}]`.
    func notificationChannels(_ node: Node, _ path: String) -> [NotificationChannel]? {
        guard let items = list(node, path, expected: "a list of {kind: webhook | slack | alertmanager, url: URL}") else { return nil }
        var channels: [NotificationChannel] = []
        for (index, item) in items.enumerated() {
            let itemPath = Self.item(path, index)
            guard let fields = mapping(item, itemPath, known: ["kind", "url", "headers"]) else { continue }
            let kind = required(fields, "kind", " (webhook, slack or alertmanager)").flatMap {
                choice($0, fields.path("kind"), NotificationChannel.Kind.self, what: "kind")
            }
            let url = required(fields, "url").flatMap { httpURL($0, fields.path("url")) }
            var headers: [String: SecretReference] = [:]
            if let node = fields["headers"] {
                for (name, _, value) in entries(of: node, fields.path("headers")) {
                    if let secret = secret(value, Self.child(fields.path("headers"), name)) { headers[name] = secret }
                }
                if node.mapping == nil { typeError(node, fields.path("headers"), expected: "a mapping NAME: {env: VAR} or {file: PATH}") }
            }
            if let kind, let url { channels.append(NotificationChannel(kind: kind, url: url, headers: headers)) }
        }
        return channels
    }
}
