import Foundation
import Glibc
import Logging

/// The directory every drill's scratch instance lives under, one subdirectory per drill:
/// `<root>/<drill-id>/` holding `owner` (the drctl process that made it: pid and start time)
/// and the instance's files. A drill removes its own directory when it ends; a drctl that was
/// killed cannot, so each drill first sweeps the root: a directory whose owner is gone has its
/// servers stopped (their pids are in `postgres/data/postmaster.pid` and `redis.pid`) and is
/// removed. `<root>/.templates/` keeps the PostgreSQL data directories drills copy instead of
/// running `initdb` (`PostgresTemplate`).
public struct ScratchRoot: Sendable {
    public let path: String

    /// `$DRCTL_DRILL_DIR`, else `<temporary directory>/drctl-drills`.
    public static var defaultPath: String {
        if let configured = ProcessInfo.processInfo.environment["DRCTL_DRILL_DIR"], !configured.isEmpty { return configured }
        return URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("drctl-drills").path
    }

    public init(path: String = ScratchRoot.defaultPath) {
        self.path = path
    }

    /// The name of the one entry in the root that is not a drill: `PostgresTemplate`s live here
    /// and outlast drills.
    static let templatesName = ".templates"

    var templatesPath: String { "\(path)/\(Self.templatesName)" }

    /// Makes `<root>/<name>` owned by this process. The root is 0711 so that the `postgres` OS
    /// user can reach its own subdirectory when drctl runs as root.
    func create(_ name: String) throws -> ScratchDirectory {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        chmod(path, 0o711)
        let directory = "\(path)/\(name)"
        // 0711 too: the postgres OS user must pass through to its own (0700) subdirectory.
        guard mkdir(directory, 0o711) == 0 else {
            throw DrillError.scratch("cannot create \(directory): \(String(cString: strerror(errno)))")
        }
        try ProcessIdentity.current().text.write(toFile: "\(directory)/owner", atomically: true, encoding: .utf8)
        return ScratchDirectory(path: directory)
    }

    /// Stops the servers of drills whose drctl is gone and removes their directories;
    /// returns the directories removed.
    @discardableResult
    public func sweep(logger: Logger) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return [] }
        var removed: [String] = []
        for name in names.sorted() where name != Self.templatesName {
            let directory = "\(path)/\(name)"
            let owner = (try? String(contentsOfFile: "\(directory)/owner", encoding: .utf8)).flatMap(ProcessIdentity.init(text:))
            if let owner, owner.isAlive { continue }
            if owner == nil, let age = Self.age(of: directory), age < 60 { continue }   // being created right now
            let stopped = ScratchDirectory(path: directory).stopServers()
            try? FileManager.default.removeItem(atPath: directory)
            logger.warning("removed the scratch instance of an interrupted drill", metadata: [
                "directory": "\(directory)", "stopped": "\(stopped.map(String.init).joined(separator: ","))",
            ])
            removed.append(directory)
        }
        return removed
    }

    private static func age(of path: String) -> TimeInterval? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date).map { Date().timeIntervalSince($0) }
    }
}

/// One drill's scratch directory.
struct ScratchDirectory: Sendable {
    let path: String

    var postgresDirectory: String { "\(path)/postgres" }
    var redisPIDFile: String { "\(path)/redis.pid" }

    /// Kills whatever server pids are recorded here (only if that pid still runs the program
    /// recorded); returns the pids signalled.
    @discardableResult
    func stopServers() -> [pid_t] {
        var stopped: [pid_t] = []
        let postmaster = (try? String(contentsOfFile: "\(postgresDirectory)/data/postmaster.pid", encoding: .utf8))?
            .split(separator: "\n").first.flatMap { pid_t($0) }
        if let postmaster, ProcessIdentity.command(of: postmaster)?.contains("postgres") == true {
            // SIGQUIT is PostgreSQL's immediate shutdown: the postmaster takes its backends down.
            Self.stop(postmaster, first: SIGQUIT)
            stopped.append(postmaster)
        }
        if let text = try? String(contentsOfFile: redisPIDFile, encoding: .utf8),
           let identity = ProcessIdentity(text: text), identity.isAlive {
            Self.stop(identity.pid, first: SIGKILL)
            stopped.append(identity.pid)
        }
        return stopped
    }

    /// Signals `pid`, waits up to 5 s for it to go, then SIGKILLs it.
    static func stop(_ pid: pid_t, first signal: Int32) {
        kill(pid, signal)
        for _ in 0..<100 {
            if kill(pid, 0) != 0 { return }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { return }
            usleep(50_000)
        }
        kill(pid, SIGKILL)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
