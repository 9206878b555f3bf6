import DrctlSources
import Foundation

/// A throwaway PostgreSQL cluster started with scripts/pg-cluster.sh in a temporary directory.
/// The superuser `postgres` connects through the Unix socket in `dir` without a password;
/// TCP on 127.0.0.1:`port` needs a password (SCRAM).
public final class PostgresCluster: Sendable {
    public let dir: URL
    public let port: Int
    /// The superuser's password for TCP logins, when `start` set one.
    public let superuserPassword: String?

    public static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    public static let script = repoRoot.appendingPathComponent("scripts/pg-cluster.sh").path

    /// Newest installed server binaries, for psql/pg_dump in tests.
    public static var binDir: String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap(Int.init).sorted()
        return "\(root)/\(versions.last ?? 15)/bin"
    }

    private init(dir: URL, port: Int, superuserPassword: String?) {
        self.dir = dir
        self.port = port
        self.superuserPassword = superuserPassword
    }

    deinit { stop() }

    /// Starts a cluster; with `superuserPassword`, `postgres` can log in over TCP with it.
    /// - Parameters:
    ///   - settings: lines appended to `postgresql.conf` before the first start
    ///     (`wal_level = replica`, `archive_mode = on`, `archive_command = '…'`).
    ///   - allowReplication: pg_hba also admits replication connections (the socket without a
    ///     password, 127.0.0.1 with one), for `pg_basebackup` and base backups.
    public static func start(superuserPassword: String? = nil, settings: [String] = [],
                             allowReplication: Bool = false) throws -> PostgresCluster {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("drctl-pg-\(UUID().uuidString.prefix(8))")
        let out = try run(script, ["start", dir.path], environment: [
            "PG_EXTRA_CONF": settings.joined(separator: "\n"), "PG_REPLICATION": allowReplication ? "1" : "",
        ])
        guard let line = out.split(separator: "\n").first(where: { $0.hasPrefix("PGPORT=") }),
              let port = Int(line.dropFirst("PGPORT=".count)) else {
            throw ClusterError(message: "pg-cluster.sh start printed no PGPORT: \(out)")
        }
        let cluster = PostgresCluster(dir: dir, port: port, superuserPassword: superuserPassword)
        if let superuserPassword {
            try cluster.exec(["ALTER ROLE postgres PASSWORD \(quoteLiteral(superuserPassword))"])
        }
        return cluster
    }

    /// Starts a cluster, runs `body`, stops and removes the cluster.
    public static func with<T>(_ body: (PostgresCluster) throws -> T) throws -> T {
        let cluster = try start()
        defer { cluster.stop() }
        return try body(cluster)
    }

    /// The server's data directory.
    public var dataDirectory: URL { dir.appendingPathComponent("data") }

    /// Appends `settings` to `postgresql.conf` and restarts the server on the same port (for a
    /// setting that needs a restart, such as `archive_mode`), waiting until it accepts connections.
    public func restart(adding settings: [String] = []) throws {
        if !settings.isEmpty {
            let handle = try FileHandle(forWritingTo: dataDirectory.appendingPathComponent("postgresql.conf"))
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(("\n" + settings.joined(separator: "\n") + "\n").utf8))
        }
        _ = try Self.run(Self.script, ["stop", dir.path])
        _ = try Self.run(Self.script, ["start", dir.path, "\(port)"])
    }

    public func stop() {
        _ = try? Self.run(Self.script, ["stop", dir.path])
        try? FileManager.default.removeItem(at: dir)
    }

    /// Creates the login role `backup` with `password` (pg_read_all_data, pg_monitor).
    public func seedBackupRole(password: String) throws {
        _ = try Self.run(Self.script, ["seed", dir.path], environment: ["PG_BACKUP_PASSWORD": password])
    }

    /// The superuser over the Unix socket.
    public func superuser(database: String = "postgres") -> PostgresEndpoint {
        PostgresEndpoint(host: dir.path, port: port, user: "postgres", database: database,
                         sslmode: "disable", connectTimeout: 5)
    }

    /// A password login over TCP.
    public func tcp(user: String, password: String?, database: String = "postgres") -> PostgresEndpoint {
        PostgresEndpoint(host: "127.0.0.1", port: port, user: user, password: password,
                         database: database, sslmode: "disable", connectTimeout: 5)
    }

    /// Runs statements as the superuser.
    public func exec(_ statements: [String], database: String = "postgres") throws {
        let connection = try PostgresConnection(superuser(database: database))
        defer { connection.close() }
        for sql in statements { try connection.query(sql) }
    }

    /// Runs SQL through psql over the Unix socket; returns the unaligned, tuples-only output.
    @discardableResult
    public func sql(_ statement: String, database: String = "postgres") throws -> String {
        try Self.run("\(Self.binDir)/psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-h", dir.path, "-p", "\(port)",
                                            "-U", "postgres", "-d", database, "-c", statement])
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs a client program (pg_restore, createdb) against this cluster as the superuser over the socket.
    public func client(_ argv: [String]) throws -> ChildProcess.Completed {
        try ChildProcess.run(argv + ["-h", dir.path, "-p", "\(port)", "-U", "postgres"])
    }

    public struct ClusterError: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
        public init(message: String) { self.message = message }
    }

    /// Runs a program and returns its output (stdout and stderr together); throws on a non-zero exit.
    @discardableResult
    public static func run(_ path: String, _ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let outcome = try ChildProcess.run([path] + arguments, environment: .inherited(adding: environment))
        guard outcome.exit.succeeded else {
            throw ClusterError(message: "\(path) \(arguments.joined(separator: " ")) \(outcome.exit): \(outcome.stdout)\(outcome.stderr)")
        }
        return outcome.stdout + outcome.stderr
    }
}

/// A SQL string literal.
private func quoteLiteral(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
}
