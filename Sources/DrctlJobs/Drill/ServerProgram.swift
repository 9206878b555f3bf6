import DrctlSources

/// Runs a PostgreSQL server program in a directory, as `user` when given (PostgreSQL refuses
/// to run as root). It gets the minimal environment only: the postmaster `pg_ctl` starts keeps
/// it for the whole drill, and it needs neither a password nor the operator's libpq settings
/// (a `PGOPTIONS` or `PGPORT` meant for the clients must not reach the scratch server).
enum ServerProgram {
    static func run(_ user: String?, in directory: String, _ argv: [String]) throws -> ChildProcess.Completed {
        let prefix = user.map { ["runuser", "-u", $0, "--"] } ?? []
        return try ChildProcess.run(prefix + ["env", "-C", directory] + argv, environment: .minimal())
    }
}
