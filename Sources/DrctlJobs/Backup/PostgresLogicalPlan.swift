import Foundation
import DrctlPipeline
import DrctlPolicy
import DrctlSources
import DrctlStorage

/// `kind: postgres`, `mode: logical`: `pg_dumpall --globals-only` (roles, tablespaces) as
/// `globals.sql`, then every selected database as a `pg_dump` custom-format archive with its
/// own compression off (drctl compresses), all under one manifest. libpq does the pre-flight
/// and records the facts (server version, WAL position) before anything is read; each table's
/// row count is read from its archive as it streams (`CustomArchiveScanner`), so the counts
/// are those of the dumped snapshot.
///
/// The password reaches the client programs by a password file in memory (`ChildEnvironment
/// .postgresClient`), never their argv or environment; the database name by their environment
/// (PGDATABASE), so no name can be read as an option.
final class PostgresLogicalPlan: BackupPlan {
    let kind = "postgres"
    let objectNames: [String]

    private let facts: PostgresFacts
    private let databaseOfObject: [String: String]
    /// The password, for each client program's environment (`ChildEnvironment.postgresClient`).
    private let password: String?
    private let settings: [String: String]
    private let connectionArguments: [String]
    /// The client programs, found once (`PostgresClientProgram`).
    private let pgDump: String
    private let pgDumpAll: String
    /// The row counters of the archives streamed so far, by database.
    private var counters: [(database: String, counter: CustomArchiveScanner)] = []

    init(target: TargetPolicy) throws {
        guard let connection = target.postgres else {
            throw JobError.unsupportedKind(target: target.name, kind: "postgres without a connection")
        }
        let password = try connection.password?.resolve()
        let endpoint = PostgresEndpoint(host: connection.host, port: connection.port, user: connection.user,
                                        password: password, database: "postgres", sslmode: connection.sslmode.rawValue)
        facts = try PostgresPreflight.gather(endpoint, databases: connection.databases)
        pgDump = try PostgresClientProgram.path("pg_dump")
        pgDumpAll = try PostgresClientProgram.path("pg_dumpall")
        try checkPgDumpVersion(pgDumpPath: pgDump, serverVersionNumber: facts.serverVersionNumber)

        var objects = ["globals.sql"]
        var databases: [String: String] = [:]
        for (index, database) in facts.databases.enumerated() {
            // Object names are keys: a readable, safe form of the name plus its position.
            let safe = String(database.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" ? $0 : "_" }.prefix(60))
            let name = "db-\(index)-\(safe).dump"
            objects.append(name)
            databases[name] = database
        }
        objectNames = objects
        databaseOfObject = databases

        self.password = password
        settings = ["PGSSLMODE": connection.sslmode.rawValue, "PGCONNECT_TIMEOUT": "10"]
        connectionArguments = ["--host", connection.host, "--port", "\(connection.port)", "--no-password"]
            + (connection.user.map { ["--username", $0] } ?? [])
    }

    func database(of object: String) -> String? { databaseOfObject[object] }

    func source(for object: String) throws -> ByteSource {
        if let database = databaseOfObject[object] {
            let source = RowCountingSource(try CommandSource(argv: [pgDump, "--format=custom", "--compress=0"] + connectionArguments,
                                                             environment: clientEnvironment(database: database)))
            counters.append((database, source.counter))
            return source
        }
        return try CommandSource(argv: [pgDumpAll, "--globals-only"] + connectionArguments,
                                 environment: clientEnvironment(database: "postgres"))
    }

    private func clientEnvironment(database: String) throws -> ChildEnvironment {
        try ChildEnvironment.postgresClient(password: password).adding(settings).adding(["PGDATABASE": database])
    }

    func finished(startedAt: Date) -> (ConsistentPoint, SourceFacts) {
        let point = ConsistentPoint(time: facts.capturedAt, precision: "at-or-after",
                                    lsn: facts.consistentLSN, timeline: facts.timeline)
        let tables = counters.flatMap { database, counter in
            counter.tables.map { TableRows(database: database, schema: $0.schema, table: $0.table, rows: $0.rows, estimated: false) }
        }.sorted { ($0.database, $0.schema, $0.table) < ($1.database, $1.schema, $1.table) }
        return (point, SourceFacts(serverVersion: facts.serverVersion, databases: facts.databases, tables: tables))
    }

    var warnings: [String] {
        facts.unconnectable.map {
            "database '\($0)' accepts no connections (ALLOW_CONNECTIONS false), so pg_dump cannot read it and it is not "
                + "in this backup (pg_dumpall skips it too); to back it up: ALTER DATABASE \(quoteIdentifier($0)) ALLOW_CONNECTIONS true"
        } + counters.compactMap { database, counter in
            counter.failure.map { "no row counts recorded for database '\(database)': \($0)" }
        }
    }
}
