import DrctlSources
import Foundation

/// A throwaway PostgreSQL cluster started with scripts/pg-cluster.sh in a temporary directory.
/// The superuser `postgres` connects through the Unix socket in `dir` without a password;
/// TCP on 127.0.0.1:`port` needs a password (SCRAM).
final class PostgresCluster: Sendable {
    let dir: URL
    let port: Int

    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let script = repoRoot.appendingPathComponent("scripts/pg-cluster.sh").path

    /// Newest installed server binaries, for psql/pg_dump in tests.
    static var binDir: String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap(Int.init).sorted()
        return "\(root)/\(versions.last ?? 15)/bin"
    }

    private init(dir: URL, port: Int) {
        self.dir = dir
        self.port = port
    }

    static func start() throws -> PostgresCluster {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("drctl-pg-\(UUID().uuidString.prefix(8))")
        let out = try run(script, ["start", dir.path])
        guard let line = out.split(separator: "\n").first(where: { $0.hasPrefix("PGPORT=") }),
              let port = Int(line.dropFirst("PGPORT=".count)) else {
            throw ClusterError(message: "pg-cluster.sh start printed no PGPORT: \(out)")
        }
        return PostgresCluster(dir: dir, port: port)
    }

    /// Starts a cluster, runs `body`, stops and removes the cluster.
    static func with<T>(_ body: (PostgresCluster) throws -> T) throws -> T {
        let cluster = try start()
        defer { cluster.stop() }
        return try body(cluster)
    }

    func stop() {
        _ = try? Self.run(Self.script, ["stop", dir.path])
        try? FileManager.default.removeItem(at: dir)
    }

    /// Creates the login role `backup` with `password` (pg_read_all_data, pg_monitor).
    func seedBackupRole(password: String) throws {
        _ = try Self.run(Self.script, ["seed", dir.path], environment: ["PG_BACKUP_PASSWORD": password])
    }

    /// The superuser over the Unix socket.
    func superuser(database: String = "postgres") -> PostgresEndpoint {
        PostgresEndpoint(host: dir.path, port: port, user: "postgres", database: database,
                         sslmode: "disable", connectTimeout: 5)
    }

    /// A password login over TCP.
    func tcp(user: String, password: String?, database: String = "postgres") -> PostgresEndpoint {
        PostgresEndpoint(host: "127.0.0.1", port: port, user: user, password: password,
                         database: database, sslmode: "disable", connectTimeout: 5)
    }

    /// Runs statements as the superuser.
    func exec(_ statements: [String], database: String = "postgres") throws {
        let connection = try PostgresConnection(superuser(database: database))
        defer { connection.close() }
        for sql in statements { try connection.query(sql) }
    }

    struct ClusterError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// Runs a program and returns its output (stdout and stderr together); throws on a non-zero exit.
    @discardableResult
    static func run(_ path: String, _ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let outcome = try ChildProcess.run([path] + arguments, environment: environment)
        guard outcome.exit.succeeded else {
            throw ClusterError(message: "\(path) \(arguments.joined(separator: " ")) \(outcome.exit): \(outcome.stdout)\(outcome.stderr)")
        }
        return outcome.stdout + outcome.stderr
    }
}
