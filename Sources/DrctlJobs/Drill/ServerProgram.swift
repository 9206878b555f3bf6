import DrctlSources

/// Runs a PostgreSQL server program in a directory, as `user` when given (PostgreSQL refuses
/// to run as root).
enum ServerProgram {
    static func run(_ user: String?, in directory: String, _ argv: [String]) throws -> ChildProcess.Completed {
        let prefix = user.map { ["runuser", "-u", $0, "--"] } ?? []
        return try ChildProcess.run(prefix + ["env", "-C", directory] + argv)
    }
}
