import Foundation

/// A PostgreSQL failure with a message a user can act on. Messages never contain the password.
public struct PostgresError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// Nothing accepts connections at the address (refused, timed out, unknown host, no socket).
        case unreachable
        /// Wrong password, no password, unknown role or no pg_hba.conf entry.
        case authenticationFailed
        case databaseDoesNotExist
        /// SQLSTATE 42501 or a missing CONNECT privilege.
        case permissionDenied
        /// A statement failed; `sqlState` says why.
        case queryFailed
        /// Any other connection failure (TLS, server starting up, too many clients, ...).
        case connectionFailed
        /// `pg_dump` is older (major version) than the server.
        case pgDumpTooOld
        /// `pg_dump` is missing, not executable, or its version could not be read.
        case pgDumpUnusable
        /// The server cannot serve what drctl asks of it (a base backup from a server older
        /// than PostgreSQL 15, a replication protocol message drctl does not know).
        case unsupportedServer
    }

    public let kind: Kind
    public let message: String
    /// The server's SQLSTATE when it sent one (queries only; libpq does not expose it for
    /// connection failures).
    public let sqlState: String?

    public init(_ kind: Kind, _ message: String, sqlState: String? = nil) {
        self.kind = kind
        self.message = message
        self.sqlState = sqlState
    }

    public var description: String { message }
}

extension PostgresError {
    /// Classifies libpq's connection error text (`PQerrorMessage` after a failed connect).
    /// libpq offers no SQLSTATE here, so this reads the (English) message; anything unrecognised
    /// becomes `.connectionFailed` with libpq's text.
    static func connectFailure(_ raw: String, endpoint: PostgresEndpoint) -> PostgresError {
        let text = redact(raw, endpoint.password)
        let detail = text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
        let lower = text.lowercased()
        let at = endpoint.address
        let who = endpoint.user.map { "user \"\($0)\"" } ?? "the default user"
        let db = endpoint.database
        func has(_ s: String) -> Bool { lower.contains(s) }

        if has("password authentication failed") || has("scram authentication") && has("failed") {
            return PostgresError(.authenticationFailed,
                "authentication failed for \(who) at \(at): the server rejected the password; check the secret configured for this target (libpq: \(detail))")
        }
        if has("no password supplied") || has("fe_sendauth") {
            return PostgresError(.authenticationFailed,
                "authentication failed for \(who) at \(at): the server requires a password and none was configured (libpq: \(detail))")
        }
        if has("role \"") && has("does not exist") {
            return PostgresError(.authenticationFailed,
                "authentication failed at \(at): \(who) does not exist on the server; create the role or fix the configured user (libpq: \(detail))")
        }
        if has("no pg_hba.conf entry") {
            return PostgresError(.authenticationFailed,
                "authentication failed for \(who) at \(at): pg_hba.conf has no entry allowing this host/user/database; add one on the server (libpq: \(detail))")
        }
        if has("database \"") && has("does not exist") {
            return PostgresError(.databaseDoesNotExist,
                "database \"\(db)\" does not exist on \(at); check the database name in the target configuration (libpq: \(detail))")
        }
        if has("permission denied") {
            return PostgresError(.permissionDenied,
                "permission denied for \(who) on database \"\(db)\" at \(at); grant CONNECT on the database to this role (libpq: \(detail))")
        }
        if has("connection refused") {
            return PostgresError(.unreachable,
                "cannot reach PostgreSQL at \(at): connection refused; is the server running and listening on that address and port? (libpq: \(detail))")
        }
        if has("timeout expired") || has("timed out") {
            return PostgresError(.unreachable,
                "cannot reach PostgreSQL at \(at): no answer within \(endpoint.connectTimeout) s; check the host, port and firewalls (libpq: \(detail))")
        }
        if has("could not translate host name") || has("name or service not known") {
            return PostgresError(.unreachable,
                "cannot reach PostgreSQL at \(at): the host name does not resolve (libpq: \(detail))")
        }
        if has("no route to host") || has("network is unreachable") || has("no such file or directory") {
            return PostgresError(.unreachable,
                "cannot reach PostgreSQL at \(at): \(endpoint.host.hasPrefix("/") ? "no server socket there" : "the network path is down") (libpq: \(detail))")
        }
        return PostgresError(.connectionFailed, "cannot connect to PostgreSQL at \(at) as \(who): \(detail)")
    }

    /// A failed statement; `sqlState` picks the kind.
    static func queryFailure(sqlState: String?, serverMessage: String, what: String,
                             endpoint: PostgresEndpoint) -> PostgresError {
        let text = redact(serverMessage, endpoint.password)
            .split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
        let state = sqlState ?? "?????"
        let what = redact(what, endpoint.password)
        switch sqlState {
        case "42501":
            return PostgresError(.permissionDenied,
                "permission denied while \(what) on \(endpoint.address), database \"\(endpoint.database)\", as \(endpoint.user.map { "user \"\($0)\"" } ?? "the default user") (SQLSTATE 42501): \(text); grant this role the privileges it needs (for backups: GRANT pg_read_all_data TO it)",
                sqlState: sqlState)
        case "3D000":
            return PostgresError(.databaseDoesNotExist,
                "database does not exist while \(what) on \(endpoint.address) (SQLSTATE 3D000): \(text)", sqlState: sqlState)
        default:
            return PostgresError(.queryFailed,
                "query failed while \(what) on \(endpoint.address), database \"\(endpoint.database)\" (SQLSTATE \(state)): \(text)",
                sqlState: sqlState)
        }
    }

    /// Belt and braces: libpq does not echo passwords, but never let one through.
    static func redact(_ text: String, _ password: String?) -> String {
        guard let password, !password.isEmpty else { return text }
        return text.replacingOccurrences(of: password, with: "<redacted>")
    }
}
