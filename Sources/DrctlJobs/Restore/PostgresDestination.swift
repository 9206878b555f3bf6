import Foundation
import DrctlPipeline
import DrctlSources
import DrctlStorage

/// A running PostgreSQL server that a logical backup is restored into:
/// `postgres://[user@]host[:port]` (the database part, if any, is ignored: each archive goes
/// to the database it came from). The password comes from `PGPASSWORD` or `~/.pgpass` (a
/// password in the URL is accepted too); it reaches the client programs by a password file in
/// memory (`ChildEnvironment.postgresClient`), never by their environment or argv.
struct PostgresDestination {
    let host: String
    let port: Int
    let user: String?
    let password: String?
    /// The client programs, found before anything is prepared: a missing pg_restore must not
    /// be found after `--force` dropped the database it was to fill.
    private let psql: String
    private let pgRestore: String

    init(url: String) throws {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? ""),
              let host = components.host, !host.isEmpty else {
            throw JobError.invalidDestination(url: url, reason: "expected postgres://[user@]host[:port]")
        }
        self.host = host
        port = components.port ?? 5432
        user = components.user?.removingPercentEncoding
        password = components.password?.removingPercentEncoding ?? ProcessInfo.processInfo.environment["PGPASSWORD"]
        psql = try PostgresClientProgram.path("psql")
        pgRestore = try PostgresClientProgram.path("pg_restore")
    }

    /// For messages: never the password.
    var display: String { "postgres://\(user.map { "\($0)@" } ?? "")\(host):\(port)" }

    func endpoint(_ database: String) -> PostgresEndpoint {
        PostgresEndpoint(host: host, port: port, user: user, password: password, database: database)
    }

    /// A client program's environment: `database` (PGDATABASE), the password by file.
    private func clientEnvironment(database: String) throws -> ChildEnvironment {
        try ChildEnvironment.postgresClient(password: password).adding(["PGDATABASE": database])
    }

    private var clientArguments: [String] {
        ["--host", host, "--port", "\(port)", "--no-password"] + (user.map { ["--username", $0] } ?? [])
    }

    /// Makes every database ready to receive its archive: a missing one is created, an empty
    /// one kept, a non-empty one refused unless `force` (then dropped and created anew).
    func prepare(_ databases: [String], force: Bool) throws {
        let admin = try PostgresConnection(endpoint("template1"))
        defer { admin.close() }
        for database in databases {
            let exists = try !admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]).isEmpty
            if exists {
                guard try !isEmpty(database) else { continue }
                guard force else {
                    throw JobError.destinationExists("\(display)/\(database) (the database is not empty)")
                }
                try admin.query("DROP DATABASE \(quoteIdentifier(database)) WITH (FORCE)")
            }
            try admin.query("CREATE DATABASE \(quoteIdentifier(database))")
        }
    }

    /// Drops and creates anew a database this restore has already made its own (`prepare`),
    /// after an attempt that loaded part of an archive.
    func recreate(_ database: String) throws {
        let admin = try PostgresConnection(endpoint("template1"))
        defer { admin.close() }
        try admin.query("DROP DATABASE IF EXISTS \(quoteIdentifier(database)) WITH (FORCE)")
        try admin.query("CREATE DATABASE \(quoteIdentifier(database))")
    }

    /// No tables, views, sequences or functions of its own.
    private func isEmpty(_ database: String) throws -> Bool {
        let connection = try PostgresConnection(endpoint(database))
        defer { connection.close() }
        let rows = try connection.query("""
            SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
                      AND n.nspname NOT LIKE 'pg_temp%')
                 + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema'))
            """)
        let count: String?? = rows.first?.first
        return count.flatMap { $0 }.flatMap { Int($0) } == 0
    }

    /// Remembers the stored password (SCRAM or md5 hash) of the role this restore logs in as,
    /// on a connection kept open so it can put it back after the globals replaced it.
    func loginPasswordKeeper() throws -> LoginPasswordKeeper {
        try LoginPasswordKeeper(connection: PostgresConnection(endpoint("postgres")))
    }

    /// `globals.sql` (roles, tablespaces) through psql; roles that already exist are not an
    /// error.
    func globalsSink() throws -> ByteSink {
        try ProgramSink(argv: [psql, "-X", "-q", "--dbname", "postgres"] + clientArguments,
                        environment: clientEnvironment(database: "postgres"),
                        tolerating: { $0.contains("already exists") })
    }

    /// A staged archive file through `pg_restore --jobs` (parallel restore needs a seekable file);
    /// `selecting` narrows it (`--section`, `--use-list`).
    func restoreArchive(at path: String, database: String, jobs: Int, selecting: [String] = []) throws {
        let result = try ChildProcess.run([pgRestore, "--exit-on-error", "--jobs", "\(jobs)", "--dbname", database]
                                          + selecting + clientArguments + [path], environment: clientEnvironment(database: database))
        guard result.exit.succeeded else {
            throw RestoreProgramError(program: "pg_restore", exit: result.exit, stderr: result.stderr, detail: nil)
        }
    }

    /// A database's custom-format archive through pg_restore, streamed (no local copy).
    func archiveSink(database: String) throws -> ByteSink {
        try ProgramSink(argv: [pgRestore, "--exit-on-error", "--dbname", database] + clientArguments,
                        environment: clientEnvironment(database: database))
    }
}

/// Holds a superuser connection across the globals restore, which sets every role's password
/// to the source's — the restoring role's too. Reading pg_authid needs a superuser, as
/// restoring roles does anyway; PostgreSQL takes a stored hash as a password verbatim.
final class LoginPasswordKeeper {
    private let connection: PostgresConnection
    let role: String
    private let hash: String?

    init(connection: PostgresConnection) throws {
        self.connection = connection
        let row = try connection.query("SELECT current_user::text, rolpassword FROM pg_authid WHERE rolname = current_user").first
        role = (row?.first ?? nil) ?? ""
        hash = row.flatMap { $0.count == 2 ? $0[1] : nil }
    }

    deinit { connection.close() }

    /// Puts the password back; true if there was one to put back.
    func restore() throws -> Bool {
        guard let hash else { return false }
        try connection.query("ALTER ROLE \(quoteIdentifier(role)) PASSWORD \(quoteLiteral(hash))")
        return true
    }
}
