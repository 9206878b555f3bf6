import Foundation
import DrctlPolicy
import DrctlSources
import Synchronization

/// A running PostgreSQL server named in the policy (`drill.into`) that drills restore into
/// instead of a scratch cluster. The backup's databases must be absent there or empty (the
/// restore refuses others); those the drill creates are dropped at teardown. Roles restored
/// from the globals stay.
final class DrillServer: Sendable {
    let settings: DrctlPolicy.PostgresConnection
    private let password: String?
    private let created = Mutex<[String]>([])

    init(_ settings: DrctlPolicy.PostgresConnection) throws {
        self.settings = settings
        password = try settings.password?.resolve()
    }


    /// For `RestoreJob`, with user and password percent-encoded.
    var url: String {
        var components = URLComponents()
        components.scheme = "postgres"
        components.host = settings.host
        components.port = settings.port
        components.user = settings.user ?? "postgres"
        components.password = password
        return components.string ?? "postgres://\(settings.host):\(settings.port)"
    }

    func endpoint(database: String) -> PostgresEndpoint {
        PostgresEndpoint(host: settings.host, port: settings.port, user: settings.user ?? "postgres", password: password,
                         database: database, sslmode: settings.sslmode.rawValue, connectTimeout: 10)
    }

    /// Remembers which of `databases` do not exist yet: the drill will create them.
    func noteMissing(_ databases: [String]) throws {
        let connection = try DrctlSources.PostgresConnection(endpoint(database: "postgres"))
        defer { connection.close() }
        let existing = Set(try connection.query("SELECT datname::text FROM pg_database").compactMap { $0.first ?? nil })
        created.withLock { $0 = databases.filter { !existing.contains($0) } }
    }

    /// Drops the databases the drill created.
    func dropCreated() {
        let created = self.created.withLock { $0 }
        guard !created.isEmpty, let connection = try? DrctlSources.PostgresConnection(endpoint(database: "postgres")) else { return }
        defer { connection.close() }
        for database in created {
            // A restored template (IS_TEMPLATE) cannot be dropped as one.
            _ = try? connection.query("ALTER DATABASE \(quoteIdentifier(database)) IS_TEMPLATE = false")
            _ = try? connection.query("DROP DATABASE IF EXISTS \(quoteIdentifier(database)) WITH (FORCE)")
        }
        self.created.withLock { $0 = [] }
    }
}
