import Foundation

/// The pre-flight of a logical backup: connect, authenticate, and collect the facts the manifest
/// records. Blocking (libpq): run it off Swift's cooperative pool.
public enum PostgresPreflight {
    /// - Parameters:
    ///   - endpoint: the server; `endpoint.database` is the maintenance database used for the
    ///     server-wide facts (e.g. "postgres").
    ///   - databases: the databases to cover; empty means every database that accepts
    ///     connections, templates made by users (IS_TEMPLATE) included, as pg_dumpall covers,
    ///     but not template1: a destination's template1 is that cluster's own set-up (often
    ///     holding extensions), which a restore would have to replace. (template0 accepts no
    ///     connections.) A named database that does not exist is an error.
    /// Row counts are not taken here: `CustomArchiveScanner` reads them from the dump
    /// itself, in the dump's own snapshot.
    public static func gather(_ endpoint: PostgresEndpoint, databases: [String]) throws -> PostgresFacts {
        let main = try PostgresConnection(endpoint)
        defer { main.close() }

        let info = try main.query("SELECT current_setting('server_version_num')::int, pg_is_in_recovery()")
        guard let row = info.first, let number = row[0].flatMap({ Int($0) }) else {
            throw PostgresError(.queryFailed, "unexpected answer to the server version query on \(endpoint.address)")
        }
        let inRecovery = row[1] == "t"

        let available = try main.query(
            "SELECT datname FROM pg_database WHERE datallowconn AND datname <> 'template1' ORDER BY datname"
        ).compactMap { $0[0] }
        let selected: [String]
        var unconnectable: [String] = []
        if databases.isEmpty {
            selected = available
            unconnectable = try main.query(
                "SELECT datname FROM pg_database WHERE NOT datallowconn AND datname <> 'template0' ORDER BY datname"
            ).compactMap { $0[0] }
        } else {
            let missing = databases.filter { !available.contains($0) }
            if !missing.isEmpty {
                let list = missing.map { "\"\($0)\"" }.joined(separator: ", ")
                throw PostgresError(.databaseDoesNotExist,
                    "database\(missing.count == 1 ? "" : "s") \(list) \(missing.count == 1 ? "does" : "do") not exist (or \(missing.count == 1 ? "does" : "do") not accept connections) on \(endpoint.address); available: \(available.joined(separator: ", "))")
            }
            var seen = Set<String>()
            selected = databases.filter { seen.insert($0).inserted }
        }

        // The consistent point, with the server's clock.
        let lsnFunction = inRecovery ? "pg_last_wal_replay_lsn()" : "pg_current_wal_lsn()"
        let point = try main.query(
            "SELECT \(lsnFunction)::text, extract(epoch FROM clock_timestamp())::float8::text")
        guard let lsn = point.first?[0] else {
            throw PostgresError(.queryFailed,
                "the server at \(endpoint.address) reports no WAL position (\(lsnFunction) is NULL): a standby that has not replayed any WAL yet cannot be backed up")
        }
        let capturedAt = point.first?[1].flatMap(Double.init).map { Date(timeIntervalSince1970: $0) } ?? Date()
        let timeline = try? Self.timeline(main, inRecovery: inRecovery)
        for database in selected {
            try checkReadable(endpoint.with(database: database))
        }

        return PostgresFacts(serverVersion: postgresVersionString(number), serverVersionNumber: number,
                             inRecovery: inRecovery, databases: selected, unconnectable: unconnectable, consistentLSN: lsn,
                             timeline: timeline, capturedAt: capturedAt)
    }

    /// Fails early, naming them, when the role may not read some tables or sequences: pg_dump
    /// would fail on the first of them half-way through (a catalog query, no table scans).
    static func checkReadable(_ endpoint: PostgresEndpoint) throws {
        let connection = try PostgresConnection(endpoint)
        defer { connection.close() }
        let unreadable = try connection.query("""
            SELECT format('%I.%I', n.nspname, c.relname)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p', 'S', 'm') AND c.relpersistence <> 't'
              AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
              AND NOT has_table_privilege(c.oid, 'SELECT')
            ORDER BY 1
            """).compactMap { $0[0] }
        guard unreadable.isEmpty else {
            let shown = unreadable.prefix(5).joined(separator: ", ")
            let more = unreadable.count > 5 ? " and \(unreadable.count - 5) more" : ""
            throw PostgresError(.permissionDenied,
                "role '\(endpoint.user ?? "(default)")' may not read \(shown)\(more) in database \"\(endpoint.database)\" on \(endpoint.address): "
                + "grant it pg_read_all_data (PostgreSQL 14+) or SELECT on those tables and sequences")
        }
    }

    /// A primary's timeline from its current WAL file name; a standby's from the WAL receiver,
    /// else from the last checkpoint. nil when the role may not see it.
    static func timeline(_ connection: PostgresConnection, inRecovery: Bool) throws -> Int? {
        if !inRecovery {
            let name = try connection.query("SELECT pg_walfile_name(pg_current_wal_lsn())").first?[0]
            return name.flatMap { Int($0.prefix(8), radix: 16) }
        }
        if let tli = try? connection.query("SELECT received_tli FROM pg_stat_wal_receiver").first?[0],
           let value = Int(tli) {
            return value
        }
        return try connection.query("SELECT timeline_id FROM pg_control_checkpoint()").first?[0].flatMap { Int($0) }
    }
}

/// `"name"` with embedded quotes doubled: safe for any identifier.
public func quoteIdentifier(_ name: String) -> String {
    "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// `'text'` with embedded quotes doubled (standard_conforming_strings, the default since 9.1):
/// for utility statements such as ALTER ROLE, which take no parameters.
public func quoteLiteral(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
}
