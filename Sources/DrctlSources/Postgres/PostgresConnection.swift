import CPostgres
import Foundation

/// One libpq connection. Blocking: call it from a dedicated thread, not from Swift's cooperative
/// pool. Not thread-safe (one user at a time), hence not Sendable.
public final class PostgresConnection {
    public let endpoint: PostgresEndpoint
    /// The libpq handle (nil once closed); the replication commands (`BaseBackupSession`) use it too.
    private(set) var conn: OpaquePointer?

    /// Connects, or throws a classified `PostgresError` (unreachable, authentication failed,
    /// database does not exist, permission denied, ...).
    public init(_ endpoint: PostgresEndpoint) throws {
        self.endpoint = endpoint
        // libpq is loaded on first use (Sources/CPostgres): a missing one fails here, not in a call.
        if let problem = drctl_libpq_unavailable() {
            throw PostgresError(.connectionFailed, "cannot connect to PostgreSQL at \(endpoint.address): \(String(cString: problem))")
        }
        let pairs = endpoint.connectionParameters
        // NUL-terminated keyword and value arrays; the password is only ever in `values`.
        let keywords = pairs.map { strdup($0.0) } + [nil]
        let values = pairs.map { strdup($0.1) } + [nil]
        defer {
            for p in keywords { free(p) }
            for p in values {
                if let p { memset(p, 0, strlen(p)) }   // scrub our copy of the secret
                free(p)
            }
        }
        let connection: OpaquePointer? = keywords.map { UnsafePointer($0) }.withUnsafeBufferPointer { k in
            values.map { UnsafePointer($0) }.withUnsafeBufferPointer { v in
                PQconnectdbParams(k.baseAddress, v.baseAddress, 0)
            }
        }
        guard let connection else {
            throw PostgresError(.connectionFailed, "cannot connect to PostgreSQL at \(endpoint.address): libpq is out of memory")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(connection))
            PQfinish(connection)
            throw PostgresError.connectFailure(message, endpoint: endpoint)
        }
        // Keep NOTICEs off stderr.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        self.conn = connection
    }

    deinit { close() }

    public func close() {
        if let conn { PQfinish(conn) }
        conn = nil
    }

    /// The server's version number, e.g. 150020.
    public var serverVersionNumber: Int {
        conn.map { Int(PQserverVersion($0)) } ?? 0
    }

    /// Runs one statement with `$1, $2, ...` parameters (text format; nil is SQL NULL) and
    /// returns every row as text (nil for NULL). Statements without a result set return [].
    @discardableResult
    public func query(_ sql: String, _ params: [String?] = []) throws -> [[String?]] {
        let conn = try openConnection()
        let copies = params.map { $0.map { strdup($0) } ?? nil }
        defer { for p in copies { free(p) } }
        let result: OpaquePointer? = copies.map { UnsafePointer($0) }.withUnsafeBufferPointer { values in
            PQexecParams(conn, sql, Int32(params.count), nil, values.baseAddress, nil, nil, 0)
        }
        guard let result else {
            throw connectionProblem(conn, what: "running a query")
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return []
        case PGRES_TUPLES_OK:
            return Self.rows(of: result)
        default:
            throw failure(of: result, conn, what: "running \(Self.summary(sql))", withContext: false)
        }
    }

    /// A result's rows as text (nil for NULL).
    static func rows(of result: OpaquePointer) -> [[String?]] {
        (0..<PQntuples(result)).map { r in
            (0..<PQnfields(result)).map { c in
                PQgetisnull(result, r, c) != 0 ? nil : String(cString: PQgetvalue(result, r, c))
            }
        }
    }

    /// The libpq handle, or the error of using a closed connection.
    func openConnection() throws -> OpaquePointer {
        guard let conn else {
            throw PostgresError(.connectionFailed, "connection to \(endpoint.address) is closed")
        }
        return conn
    }

    // MARK: COPY FROM STDIN

    /// Starts `statement`, a `COPY ... FROM stdin`: the connection then takes data
    /// (`putCopyData`) until `endCopy`.
    public func startCopyIn(_ statement: String) throws {
        let conn = try openConnection()
        guard let result = PQexec(conn, statement) else { throw connectionProblem(conn, what: "starting a COPY") }
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_COPY_IN else {
            throw failure(of: result, conn, what: "running \(Self.summary(statement))")
        }
    }

    /// Sends COPY data: any split of the stream, not necessarily whole rows.
    public func putCopyData(_ bytes: UnsafeRawBufferPointer) throws {
        let conn = try openConnection()
        let sent = bytes.withMemoryRebound(to: CChar.self) { PQputCopyData(conn, $0.baseAddress, Int32($0.count)) }
        guard sent == 1 else { throw connectionProblem(conn, what: "sending COPY data") }
    }

    /// Ends the COPY: with `abandoning`, the server discards it with that message; otherwise
    /// it commits, or throws the server's error (a row it refused, a lost connection).
    public func endCopy(abandoning reason: String? = nil) throws {
        let conn = try openConnection()
        guard PQputCopyEnd(conn, reason) == 1 else { throw connectionProblem(conn, what: "ending a COPY") }
        var firstFailure: PostgresError?
        while let result = PQgetResult(conn) {
            defer { PQclear(result) }
            let status = PQresultStatus(result)
            if status != PGRES_COMMAND_OK, firstFailure == nil {
                firstFailure = failure(of: result, conn, what: "running COPY")
            }
        }
        if let firstFailure, reason == nil { throw firstFailure }
    }

    /// The server's error: message, detail and hint, and where in its work (`withContext`:
    /// for COPY, the row it refused).
    func failure(of result: OpaquePointer, _ conn: OpaquePointer, what: String,
                         withContext: Bool = true) -> PostgresError {
        if PQstatus(conn) != CONNECTION_OK { return connectionProblem(conn, what: what) }
        let state = field(result, "C")
        let primary = field(result, "M") ?? String(cString: PQresultErrorMessage(result))
        let detail = field(result, "D").map { " (\($0))" } ?? ""
        let hint = field(result, "H").map { " hint: \($0)" } ?? ""
        let context = withContext ? field(result, "W").map { " context: \($0)" } ?? "" : ""
        return PostgresError.queryFailure(sqlState: state, serverMessage: primary + detail + hint + context,
                                          what: what, endpoint: endpoint)
    }

    private func field(_ result: OpaquePointer, _ code: Character) -> String? {
        guard let p = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
        return String(cString: p)
    }

    func connectionProblem(_ conn: OpaquePointer, what: String) -> PostgresError {
        let message = PostgresError.redact(String(cString: PQerrorMessage(conn)), endpoint.password)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return PostgresError(.unreachable,
            "lost the connection to PostgreSQL at \(endpoint.address) while \(what): \(message)")
    }

    /// The first words of a statement, for error messages (never the parameters).
    static func summary(_ sql: String) -> String {
        let words = sql.split(whereSeparator: { $0.isWhitespace }).prefix(8).joined(separator: " ")
        return "\"\(words.count > 80 ? String(words.prefix(80)) + "…" : words)\""
    }
}
