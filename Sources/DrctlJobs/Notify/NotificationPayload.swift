import Foundation
import DrctlPolicy
import DrctlStorage

/// A notification shaped for one kind of channel: the bytes POSTed.
enum NotificationPayload {
    static func body(_ notification: Notification, for kind: NotificationChannel.Kind, host: String) throws -> [UInt8] {
        switch kind {
        case .webhook:
            return Array(try ManifestCoding.encoder.encode(Webhook(notification, host: host)))
        case .slack:
            let icon = notification.event.resolves ? ":white_check_mark:" : notification.event.severity == "critical" ? ":rotating_light:" : ":warning:"
            var text = "\(icon) \(notification.summary)"
            if let runID = notification.runID { text += "\nrun: `\(runID)` on \(host)" }
            return Array(try JSONEncoder().encode(["text": text]))
        case .alertmanager:
            return Array(try ManifestCoding.encoder.encode([Alert(notification, host: host)]))
        }
    }

    /// drctl's generic document.
    struct Webhook: Encodable {
        let event: String
        let target: String
        let summary: String
        let runID: String?
        let error: String?
        let host: String
        let at: Date
        let drill: DrillRecord?

        init(_ notification: Notification, host: String) {
            event = notification.event.rawValue
            target = notification.target
            summary = notification.summary
            runID = notification.runID
            error = notification.error
            self.host = host
            at = notification.at
            drill = notification.drill
        }

        enum CodingKeys: String, CodingKey {
            case event, target, summary, error, host, at, drill
            case runID = "run_id"
        }
    }

    /// Alertmanager API v2 `postableAlert`. A recovery sends the same labels with `endsAt`
    /// now, which resolves the alert the failure raised.
    struct Alert: Encodable {
        let labels: [String: String]
        let annotations: [String: String]
        let startsAt: Date
        let endsAt: Date?

        init(_ notification: Notification, host: String) {
            labels = ["alertname": notification.event.alertName, "target": notification.target,
                      "severity": notification.event.resolves ? "critical" : notification.event.severity, "source": "drctl"]
            var annotations = ["summary": notification.summary, "host": host]
            if let runID = notification.runID { annotations["run_id"] = runID }
            if let error = notification.error { annotations["description"] = error }
            self.annotations = annotations
            startsAt = notification.at
            endsAt = notification.event.resolves ? notification.at : nil
        }
    }
}
