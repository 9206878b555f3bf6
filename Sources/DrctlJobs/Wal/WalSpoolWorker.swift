import DrctlPipeline
import DrctlStorage
import Foundation
import Glibc
import Logging

/// Starts the read-ahead worker (`drctl wal-read-ahead`, `WalReadAheadJob`) for a spool
/// unless one runs: a process of its own, in a session of its own, its standard output and
/// error in the spool's `worker.log`, holding no descriptor of `wal-fetch`'s. `wal-fetch` does
/// not wait for it: PostgreSQL replays the segment just served while the worker opens the next
/// ones on another core.
public struct WalSpoolWorker: Sendable {
    public let spool: WalSpool
    /// The worker's command line, less the segment it reads after.
    public let arguments: [String]

    public init(spool: WalSpool, arguments: [String]) {
        self.spool = spool
        self.arguments = arguments
    }

    /// The fast path of `wal-fetch`: the spooled segment `file` moved to `destination` (its
    /// size returned), and the worker started for the ones after it; nil when the spool does not
    /// hold it. Reads nothing but the spool and `global/pg_control` (unless the system identifier
    /// is given): no policy, no keys, no region.
    public func serve(_ file: String, to destination: String, dataDirectory: String, systemIdentifier: UInt64?,
                      logger: Logger) throws -> Int? {
        guard let name = WalFileName(file), name.kind == .segment,
              let system = systemIdentifier ?? (try? PgControl.systemIdentifier(dataDirectory: dataDirectory)),
              let size = try spool.serve(name, to: destination, systemIdentifier: system, logger: logger) else { return nil }
        keepAhead(after: name)
        return size
    }

    /// The log is started again once it is larger than this.
    static let logLimit: off_t = 1 << 20
    /// `POSIX_SPAWN_SETSID` (glibc 2.26; its Swift module does not export it, the declaration
    /// needs _GNU_SOURCE): the child calls setsid(), out of the server's process group.
    static let setSessionFlag: Int16 = 0x80

    /// Starts a worker to keep the spool `spool.depth` segments after `name` unless one holds
    /// the spool's lock. Best effort: a worker that cannot start means the next segments come
    /// from the regions, as without a spool.
    public func keepAhead(after name: WalFileName) {
        guard name.kind == .segment, !isLocked else { return }
        var status = stat()
        if stat(spool.logPath, &status) == 0, status.st_size > Self.logLimit { truncate(spool.logPath, 0) }
        let argv = arguments + [name.description]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, spool.logPath, O_WRONLY | O_APPEND | O_CREAT, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        _ = GlibcSymbols.addCloseFrom?(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGPIPE, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var noMask = sigset_t()
        sigemptyset(&noMask)
        posix_spawnattr_setsigmask(&attributes, &noMask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK) | Self.setSessionFlag)
        let cArgv = argv.map { strdup($0) } + [nil]
        defer { cArgv.forEach { free($0) } }
        var child = pid_t()
        _ = posix_spawn(&child, argv[0], &actions, &attributes, cArgv, environ)
    }

    /// Whether a worker holds the spool's lock (taken and given back at once; a lock that
    /// cannot be opened is left to the worker to report in its log).
    var isLocked: Bool {
        switch Result(catching: { try spool.tryLock() }) {
        case .success(let descriptor?):
            close(descriptor)
            return false
        case .success(nil): return true
        case .failure: return false
        }
    }
}
