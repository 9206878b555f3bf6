import Foundation
import DrctlPolicy

/// Refuses to restore a drill into the server the target backs up: a drill must never touch
/// production. Host names are compared as given, with every loopback spelling taken as one.
struct DestinationGuard {
    let target: TargetPolicy

    private var source: (host: String, port: Int)? {
        if let postgres = target.postgres { return (postgres.host, postgres.port) }
        if let redis = target.redis { return (redis.host, redis.port) }
        return nil
    }

    func check(host: String, port: Int) throws {
        guard let source, source.port == port, Self.normalised(source.host) == Self.normalised(host) else { return }
        throw DrillError.intoSource(target: target.name, address: "\(host):\(port)")
    }

    static func normalised(_ host: String) -> String {
        let lower = host.lowercased()
        if ["localhost", "127.0.0.1", "::1", "[::1]", "localhost.localdomain"].contains(lower) || lower.hasPrefix("127.") {
            return "loopback"
        }
        // A Unix socket directory reaches a server on this host too.
        if lower.hasPrefix("/") { return "loopback" }
        return lower
    }
}
