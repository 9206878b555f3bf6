/// Where and as whom to connect to a PostgreSQL server.
///
/// `password` is the resolved secret. It is handed to libpq only as a separate keyword/value pair
/// (`PQconnectdbParams`), never written into a conninfo string, an argv or a log line; the
/// textual and reflected forms of an endpoint redact it.
public struct PostgresEndpoint: Sendable, Equatable {
    /// Host name or IP address; a value starting with `/` is a Unix-socket directory.
    public var host: String
    public var port: Int
    /// nil: libpq's default (the OS user name / `PGUSER`).
    public var user: String?
    public var password: String?
    public var database: String
    /// libpq `sslmode`: disable, allow, prefer, require, verify-ca, verify-full.
    public var sslmode: String
    /// Seconds; 0 waits forever (libpq semantics).
    public var connectTimeout: Int
    /// A physical replication connection (`replication=true`): it takes replication commands
    /// (`IDENTIFY_SYSTEM`, `BASE_BACKUP`, `SHOW`), no SQL, and no database.
    public var replication = false

    public init(host: String, port: Int = 5432, user: String? = nil, password: String? = nil,
                database: String = "postgres", sslmode: String = "prefer", connectTimeout: Int = 10) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.sslmode = sslmode
        self.connectTimeout = connectTimeout
    }

    /// The same server and credentials, another database.
    public func with(database: String) -> PostgresEndpoint {
        var copy = self
        copy.database = database
        return copy
    }

    /// The same server and credentials, as a physical replication connection.
    public func forPhysicalReplication() -> PostgresEndpoint {
        var copy = self
        copy.replication = true
        return copy
    }

    /// "127.0.0.1:5432", or "socket /run/postgresql port 5432" for a Unix-socket directory.
    public var address: String {
        host.hasPrefix("/") ? "socket directory \(host) port \(port)" : "\(host):\(port)"
    }

    /// Keyword/value pairs for `PQconnectdbParams` (the only place the password leaves this type).
    var connectionParameters: [(String, String)] {
        var pairs: [(String, String)] = [
            ("host", host),
            ("port", String(port)),
            ("dbname", database),
            ("sslmode", sslmode),
            ("connect_timeout", String(connectTimeout)),
            ("application_name", "drctl"),
        ]
        if replication { pairs.append(("replication", "true")) }
        if let user { pairs.append(("user", user)) }
        if let password { pairs.append(("password", password)) }
        return pairs
    }
}

extension PostgresEndpoint: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "postgres://\(user.map { "\($0)@" } ?? "")\(host.hasPrefix("/") ? "[\(host)]" : host):\(port)/\(database)"
            + (password == nil ? "" : " (password set)")
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: [
            "host": host, "port": port, "user": user as Any,
            "password": password == nil ? "nil" : "<redacted>",
            "database": database, "sslmode": sslmode, "connectTimeout": connectTimeout, "replication": replication,
        ])
    }
}
