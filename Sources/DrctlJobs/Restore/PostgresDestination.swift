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

    /// Before anything is written: which of `databases` exist here. A non-empty one is
    /// refused unless `force`; an empty one (no tables, views, sequences or functions) holds
    /// nothing to lose and is made anew with the backup's properties.
    func existing(_ databases: [String], force: Bool) throws -> Set<String> {
        let admin = try PostgresConnection(endpoint("template1"))
        defer { admin.close() }
        var found: Set<String> = []
        for database in databases where try !admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]).isEmpty {
            found.insert(database)
            if !force, try !isEmpty(database) {
                throw JobError.destinationExists("\(display)/\(database) (the database is not empty)")
            }
        }
        return found
    }

    /// A database to connect to for statements about `database` (one cannot drop the
    /// database one is connected to).
    private func maintenance(for database: String?) -> String {
        database == "postgres" ? "template1" : "postgres"
    }

    /// A superuser connection for statements about `database` (or about none in particular).
    func administering(_ database: String? = nil) throws -> PostgresConnection {
        try PostgresConnection(endpoint(maintenance(for: database)))
    }

    /// Drops `database` to make it anew: with `force`, sessions connected to it are ended; a
    /// template database (IS_TEMPLATE) is made an ordinary one first, as DROP requires.
    func drop(_ database: String, force: Bool) throws {
        let admin = try administering(database)
        defer { admin.close() }
        try admin.query("ALTER DATABASE \(quoteIdentifier(database)) IS_TEMPLATE = false")
        try admin.query("DROP DATABASE IF EXISTS \(quoteIdentifier(database))" + (force ? " WITH (FORCE)" : ""))
    }

    /// Creates `database` with its properties. pg_restore writes the script of the archive's
    /// database-level entries (`--create` on its head: CREATE DATABASE, owner, settings,
    /// comment, security labels, privileges; `list` names them), `statement` takes the place of
    /// its CREATE DATABASE (the same, or with the user's maps applied: pg_restore runs a
    /// DATABASE entry in --create mode whatever the list says), and psql runs it, stopping at
    /// the first error. The script stays bytes: a comment is in the database's own encoding.
    func create(_ database: String, head: [UInt8], list: String, statement: String) throws {
        let archive = try TemporaryFile(contents: head, prefix: "drctl-archive-head")
        defer { archive.remove() }
        let listFile = try TemporaryFile(contents: Array(list.utf8), prefix: "drctl-use-list")
        defer { listFile.remove() }
        let written = try ChildProcess.output(of: [pgRestore, "--create", "--use-list", listFile.path, "--file", "-", archive.path])
        guard written.exit.succeeded else {
            throw RestoreProgramError(program: "pg_restore", exit: written.exit, stderr: written.stderr, detail: nil)
        }
        guard let script = DatabaseScript(written.stdout).replacingCreate(with: statement) else {
            throw RestoreProgramError(program: "pg_restore", exit: written.exit, stderr: written.stderr,
                                      detail: "its script for database '\(database)' has no CREATE DATABASE statement")
        }
        let sink = try ProgramSink(argv: [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--dbname", maintenance(for: database)]
                                   + clientArguments, environment: clientEnvironment(database: maintenance(for: database)))
        do {
            try script.withUnsafeBytes { try sink.write($0) }
            try sink.finish()
        } catch {
            sink.abort()
            throw error
        }
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
    /// error, nor is a tablespace this server cannot create (its directory is missing or taken
    /// here): the databases' check then names each database and object that needs it.
    func globalsSink() throws -> ByteSink {
        try ProgramSink(argv: [psql, "-X", "-q", "--dbname", "postgres"] + clientArguments,
                        environment: clientEnvironment(database: "postgres"),
                        tolerating: { $0.contains("already exists") || $0.contains("tablespace") || $0.contains("directory") })
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
