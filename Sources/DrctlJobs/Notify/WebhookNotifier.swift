import Foundation
import Logging
import DrctlPolicy
import DrctlStorage

/// Tells the policy's webhooks about a drill that failed or missed an objective: a JSON POST
/// (`event`, `summary`, and the drill record as `drill`), tried up to `attempts` times with a
/// growing pause. Never throws: a notification that cannot be delivered is logged, and the
/// drill's result and exit code stay what they are.
public struct WebhookNotifier: Sendable {
    public let channels: [NotificationChannel]
    public let logger: Logger
    public var attempts = 3
    public var pause: Double = 0.5

    public init(channels: [NotificationChannel], logger: Logger) {
        self.channels = channels
        self.logger = logger
    }

    /// The document a webhook receives (docs/POLICY.md, "Notifications").
    struct Payload: Encodable {
        let event: String
        let summary: String
        let drill: DrillRecord
    }

    public func drillFinished(_ record: DrillRecord) async {
        guard record.result != .passed, !channels.isEmpty else { return }
        let event = record.result == .failed ? "drill_failed" : "drill_objectives_missed"
        let summary = "drctl drill of '\(record.target)' \(record.result == .failed ? "failed" : "missed its objectives"): "
            + record.reasons.joined(separator: "; ")
        guard let body = try? ManifestCoding.encoder.encode(Payload(event: event, summary: summary, drill: record)) else { return }
        for channel in channels where channel.kind == .webhook {
            let (attempts, pause, logger) = (self.attempts, self.pause, self.logger)
            _ = try? await OffPool.run {
                Self.post(Array(body), to: channel, attempts: attempts, pause: pause, logger: logger)
            }
        }
    }

    private static func post(_ body: [UInt8], to channel: NotificationChannel, attempts: Int, pause: Double, logger: Logger) {
        var headers = [("Content-Type", "application/json")]
        for (name, secret) in channel.headers.sorted(by: { $0.key < $1.key }) {
            guard let value = try? secret.resolve() else {
                logger.warning("notification header secret unreadable; sending without it", metadata: ["header": "\(name)"])
                continue
            }
            headers.append((name, value))
        }
        var settings = HTTPSettings()
        settings.connectTimeout = 5
        settings.stallTimeout = 10
        var lastError = ""
        for attempt in 1...max(1, attempts) {
            do {
                let request = HTTPRequest(method: "POST", url: channel.url, headers: headers, body: HTTPRequestBody(bytes: body))
                let (response, _) = try HTTPClient(settings: settings).perform(request, limit: 64 << 10)
                if (200..<300).contains(response.status) { return }
                lastError = "HTTP \(response.status)"
            } catch {
                lastError = "\(error)"
            }
            if attempt < attempts { usleep(useconds_t(pause * Double(attempt) * 1_000_000)) }
        }
        logger.warning("notification not delivered", metadata: [
            "url": "\(channel.url.split(separator: "?").first ?? "")", "attempts": "\(attempts)", "error": "\(lastError)",
        ])
    }
}
