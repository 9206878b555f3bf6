/// Why a drill could not restore or verify; each message names the cause and ends up in the
/// drill record's `reasons`.
public enum DrillError: Error, CustomStringConvertible {
    /// The scratch directory could not be made.
    case scratch(String)
    /// No server binaries for the backup's PostgreSQL version.
    case noServerBinaries(major: String, searched: String)
    /// The scratch server would not start (the tail of its log).
    case instanceFailed(what: String, log: String)
    /// The drill would restore into the server that was backed up.
    case intoSource(target: String, address: String)
    case unsupported(String)

    public var description: String {
        switch self {
        case .scratch(let message):
            return "scratch directory: \(message)"
        case .noServerBinaries(let major, let searched):
            return "no PostgreSQL \(major) (or newer) server binaries for the scratch instance (looked in \(searched)); install postgresql-\(major)"
        case .instanceFailed(let what, let log):
            return "the scratch \(what) did not start: \(log)"
        case .intoSource(let target, let address):
            return "refusing to drill target '\(target)' into \(address): that is the server it backs up; drills restore into a scratch instance or another server"
        case .unsupported(let message):
            return message
        }
    }
}
