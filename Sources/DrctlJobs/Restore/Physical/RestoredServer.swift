import Foundation
import Glibc
import DrctlSources
import DrctlStorage

/// The restored cluster started with `pg_ctl` of the backup's major version (as the server's
/// user when drctl runs as root), watched until it has replayed to its target and promoted.
struct RestoredServer {
    let dataDirectory: String
    let major: String
    let port: Int
    /// The OS user to run the server's programs as (root cannot run a server); nil: this user.
    let owner: String?
    /// Where the server's output goes while it recovers.
    var logFile: String { "\(dataDirectory)/drctl-recovery.log" }
    /// Its Unix socket's directory: the data directory, unless the socket's path would pass
    /// the 107 bytes a socket address holds (then a new directory under /tmp).
    let socketDirectory: String

    init(dataDirectory: String, major: String, port: Int, owner: String?) {
        self.dataDirectory = dataDirectory
        self.major = major
        self.port = port
        self.owner = owner
        socketDirectory = Self.socketDirectory(for: dataDirectory, owner: owner)
    }

    private static func socketDirectory(for dataDirectory: String, owner: String?) -> String {
        guard dataDirectory.utf8.count + "/.s.PGSQL.65535.lock".utf8.count > 107 else { return dataDirectory }
        var template = Array("/tmp/drctl-pg-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { return dataDirectory }
        let path = String(cString: made)
        if let owner, let account = getpwnam(owner) { chown(path, account.pointee.pw_uid, account.pointee.pw_gid) }
        return path
    }

    /// What the server says it reached.
    struct Reached: Sendable {
        /// `pg_last_xact_replay_timestamp()`: the last replayed commit's time (nil: none replayed).
        let commitTime: Date?
        /// `pg_last_wal_replay_lsn()`.
        let lsn: String?
        /// The timeline the promoted server writes on.
        let timeline: Int?
    }

    /// The major version whose programs serve the backup's files ("15" of "15.20"; "" when
    /// the manifest names no version, which `program` then refuses by name).
    static func major(of manifest: BackupManifest) -> String {
        (manifest.source.serverVersion ?? "").split(separator: ".").first.map(String.init) ?? ""
    }

    static func program(_ name: String, major: String) throws -> String {
        let path = "/usr/lib/postgresql/\(major)/bin/\(name)"
        guard FileManager.default.isExecutableFile(atPath: path) else { throw PhysicalRestoreError.missingProgram(name, major: major) }
        return path
    }

    private func argv(_ program: String, _ arguments: [String]) throws -> [String] {
        let path = try Self.program(program, major: major)
        return (owner.map { ["runuser", "-u", $0, "--"] } ?? []) + [path] + arguments
    }

    /// `pg_verifybackup` against the backup's own manifest, before any recovery: every file as
    /// the server sent it (WAL not parsed: it is in the archive, not in pg_wal).
    func verify() throws {
        let done = try ChildProcess.run(argv("pg_verifybackup", ["--no-parse-wal", "--quiet", dataDirectory]), environment: .minimal())
        guard done.exit.succeeded else {
            throw PhysicalRestoreError.verifyFailed((done.stdout + done.stderr).trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    /// Starts the server (its socket in the data directory) and waits until it has promoted:
    /// recovery reached its target. A server that stops on the way fails with its log's tail.
    func startAndAwaitPromotion(timeout: Duration, interruption: Interruption) async throws -> Reached {
        // -w: back once the server accepts connections (consistent, as a hot standby) or has
        // failed to start; the promotion comes after.
        let start = try ChildProcess.run(argv("pg_ctl", ["-D", dataDirectory, "-l", logFile, "-w",
                                                         "-t", "\(max(60, timeout.components.seconds))",
                                                         "-o", "-p \(port) -k \(socketDirectory)", "start"]),
                                         environment: .minimal())
        guard start.exit.succeeded else { throw PhysicalRestoreError.serverFailed("pg_ctl start \(start.exit): \(start.stderr)\(logTail())") }
        // Watched through postmaster.pid (a file read every 20 ms, not two programs started
        // every 200 ms beside the replay): its status says "ready" once recovery has ended.
        let deadline = ContinuousClock.now + timeout
        while true {
            if let signal = interruption.signal { throw JobError.interrupted(signal: signal) }
            let status = postmasterStatus()
            if status == "ready", let answer = try? query("SELECT pg_is_in_recovery()"), answer == "f" { break }
            guard status != nil else { throw PhysicalRestoreError.serverFailed("the server stopped during recovery\(logTail())") }
            guard ContinuousClock.now < deadline else {
                throw PhysicalRestoreError.serverFailed("not promoted within \(timeout) (still recovering; it keeps running)\(logTail())")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let row = try query("SELECT coalesce(extract(epoch FROM pg_last_xact_replay_timestamp())::text, ''), "
            + "coalesce(pg_last_wal_replay_lsn()::text, ''), substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)")
        let fields = row.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        return Reached(commitTime: fields.first.flatMap(Double.init).map { Date(timeIntervalSince1970: $0) },
                       lsn: fields.count > 1 && !fields[1].isEmpty ? fields[1] : nil,
                       timeline: fields.count > 2 ? Int(fields[2], radix: 16) : nil)
    }

    /// Immediate shutdown (a drill's scratch copy: nothing in it is worth a checkpoint).
    func stop() {
        _ = try? ChildProcess.run(argv("pg_ctl", ["-D", dataDirectory, "-m", "immediate", "-w", "-t", "30", "stop"]), environment: .minimal())
        if socketDirectory != dataDirectory { rmdir(socketDirectory) }
    }

    /// One query through psql over the data directory's socket, as the server's user.
    func query(_ sql: String) throws -> String {
        let done = try ChildProcess.run(argv("psql", ["-X", "-q", "-At", "-h", socketDirectory, "-p", "\(port)", "-d", "postgres",
                                                      "-U", owner ?? NSUserName(), "-c", sql]), environment: .minimal())
        guard done.exit.succeeded else { throw PhysicalRestoreError.serverFailed("psql \(done.exit): \(done.stderr)") }
        return done.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The running postmaster's status (postmaster.pid's eighth line: "starting", "standby",
    /// "ready", "stopping"); nil when no postmaster runs on the data directory.
    private func postmasterStatus() -> String? {
        guard let text = try? String(contentsOfFile: "\(dataDirectory)/postmaster.pid", encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let pid = lines.first.flatMap({ pid_t($0) }), pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return nil }
        return lines.count > 7 ? lines[7] : ""
    }

    private func logTail() -> String {
        guard let text = try? String(contentsOfFile: logFile, encoding: .utf8) else { return "" }
        return "; the server's log (\(logFile)) ends: " + text.split(separator: "\n").suffix(8).joined(separator: " | ")
    }
}
