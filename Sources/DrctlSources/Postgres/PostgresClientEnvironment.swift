import Foundation

extension ChildEnvironment {
    /// What a libpq client program (`pg_dump`, `pg_dumpall`, `pg_restore`, `psql`) starts with:
    /// the minimal environment, the libpq settings drctl itself was given (`PG*`, such as
    /// `PGSSLROOTCERT` or `PGCLUSTER`, and Kerberos' `KRB5CCNAME`, `KRB5_CONFIG`), and `password`
    /// by a password file in memory (`PGPASSFILE` naming the child's descriptor 3), never by
    /// `PGPASSWORD`: an environment is readable in `/proc/PID/environ` while the program runs.
    ///
    /// Without `password`, drctl's own `PGPASSWORD` (which drctl's libpq connections used) is
    /// passed the same way; without either, an operator's `PGPASSFILE` or `~/.pgpass` applies.
    public static func postgresClient(password: String?,
                                      from environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ChildEnvironment {
        let client = postgresClientSettings(from: environment)
        guard let password = password ?? environment["PGPASSWORD"] else { return client }
        let file = try MemoryFile(name: "drctl-pgpass", contents: Data(try passwordFileLine(password).utf8))
        return client.adding(["PGPASSFILE": filePath]).giving(file)
    }

    /// The minimal environment and the libpq settings, no password: for a client program that
    /// connects nowhere (`pg_dump --version`).
    public static func postgresClientSettings(from environment: [String: String] = ProcessInfo.processInfo.environment) -> ChildEnvironment {
        minimal(from: environment).adding(environment.filter { name, _ in
            (name.hasPrefix("PG") && name != "PGPASSWORD") || name == "KRB5CCNAME" || name == "KRB5_CONFIG"
        })
    }

    /// `*:*:*:*:password`, a line of a libpq password file that matches any server, database and
    /// user: in the password `\` and `:` are escaped with a backslash. A line break cannot be
    /// written (the file is read line by line), so such a password is refused, never cut short.
    static func passwordFileLine(_ password: String) throws -> String {
        guard !password.unicodeScalars.contains(where: { $0 == "\n" || $0 == "\r" }) else {
            throw PostgresPasswordError()
        }
        let escaped = password.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: ":", with: "\\:")
        return "*:*:*:*:\(escaped)\n"
    }
}

public struct PostgresPasswordError: Error, CustomStringConvertible {
    public var description: String {
        "the PostgreSQL password contains a line break, which the PostgreSQL client programs cannot be given (libpq's password file holds one password per line); change the password"
    }
}
