import Foundation
import Yams

extension PolicyValidator {
    static let agentKeys = ["listen", "jitter", "catch_up", "shutdown_grace", "prune_schedule", "report_schedule",
                            "report_dir", "timezone"]

    func agentSettings(_ node: Node, _ path: String) -> AgentSettings? {
        guard let fields = mapping(node, path, known: Self.agentKeys) else { return nil }
        var settings = AgentSettings()
        if let node = fields["listen"], let text = string(node, fields.path("listen")) {
            if Self.isIPv4HostPort(text) {
                settings.listen = text
            } else {
                report(node, fields.path("listen"), "expected an IPv4 HOST:PORT such as 127.0.0.1:9187 (0.0.0.0:9187 for every interface), got \"\(text)\"")
            }
        }
        if let node = fields["jitter"] { settings.jitter = duration(node, fields.path("jitter")) }
        if let node = fields["catch_up"] { settings.catchUp = duration(node, fields.path("catch_up")) }
        if let node = fields["shutdown_grace"], let grace = duration(node, fields.path("shutdown_grace")) {
            settings.shutdownGrace = grace
        }
        if let node = fields["prune_schedule"] { settings.pruneSchedule = cron(node, fields.path("prune_schedule")) }
        if let node = fields["report_schedule"] { settings.reportSchedule = cron(node, fields.path("report_schedule")) }
        if let node = fields["report_dir"] { settings.reportDirectory = filePath(node, fields.path("report_dir")) }
        if settings.reportSchedule != nil, settings.reportDirectory == nil, let key = fields.keyNode("report_schedule") {
            report(key, fields.path("report_schedule"), "needs report_dir: the directory the monthly reports are written to")
        }
        if let node = fields["timezone"] { settings.timezone = timeZone(node, fields.path("timezone")) }
        return settings
    }

    static func isIPv4HostPort(_ text: String) -> Bool {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let port = Int(parts[1]), (0...65535).contains(port) else { return false }
        let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.allSatisfy { Int($0).map { (0...255).contains($0) } ?? false }
    }
}
