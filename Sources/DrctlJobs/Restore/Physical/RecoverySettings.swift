import Foundation

/// The recovery settings a point-in-time restore writes into the restored data directory's
/// `postgresql.auto.conf` (read last, so they win over the source's `postgresql.conf`), and the
/// `recovery.signal` that makes the server recover from the archive: WAL comes through
/// `drctl wal-fetch`, replay stops at the target, then the server promotes.
struct RecoverySettings {
    /// The drctl binary and the policy it reads, both absolute: the server runs the command
    /// from its data directory.
    let drctl: String
    let policyPath: String
    let target: String
    let recoveryTarget: RecoveryTarget
    /// `--timeline`: a number, `latest` or `current`; nil: PostgreSQL's default (`latest`).
    let timeline: String?
    /// `--port`: written so that every later start uses it too.
    let port: Int?
    /// false: `archive_mode = off` (a drill's scratch copy).
    var archiving = true
    /// What the lines are for (a comment above them).
    var note: String

    /// `wal-fetch`'s spool (`WalSpool`), relative to the data directory (the server runs
    /// `restore_command` there): inside pg_wal, so on the file system of `%p` (a spooled segment
    /// is served by a rename), new with every restore (never another cluster's or another
    /// recovery's), and, like PGDATA, the server's user's alone.
    static let spoolDirectory = "pg_wal/drctl-spool"

    var restoreCommand: String {
        [drctl, "wal-fetch", "--policy", policyPath, "--target", target, "--spool", Self.spoolDirectory]
            .map(Self.shellQuoted).joined(separator: " ") + " \"%f\" \"%p\""
    }

    var lines: [String] {
        var lines = ["", "# \(note)", "restore_command = \(Self.quoted(restoreCommand))"]
        switch recoveryTarget {
        case .latest: break
        case .time(let date): lines.append("recovery_target_time = \(Self.quoted(PostgresTimeText.utc(date)))")
        case .lsn(let lsn): lines.append("recovery_target_lsn = \(Self.quoted(lsn))")
        }
        if recoveryTarget != .latest { lines.append("recovery_target_action = 'promote'") }
        if let timeline { lines.append("recovery_target_timeline = \(Self.quoted(timeline))") }
        if let port { lines.append("port = \(port)") }
        if !archiving { lines.append("archive_mode = off") }
        return lines
    }

    /// Writes the settings and `recovery.signal`, and creates the (empty) spool; returns what
    /// it wrote, to be given to the server's user.
    func write(into dataDirectory: String) throws -> [String] {
        let auto = "\(dataDirectory)/postgresql.auto.conf"
        let existing = (try? String(contentsOfFile: auto, encoding: .utf8)) ?? ""
        try (existing + lines.joined(separator: "\n") + "\n").write(toFile: auto, atomically: true, encoding: .utf8)
        FileManager.default.createFile(atPath: "\(dataDirectory)/recovery.signal", contents: Data())
        let spool = "\(dataDirectory)/\(Self.spoolDirectory)"
        try? FileManager.default.removeItem(atPath: spool)
        try FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return [auto, "\(dataDirectory)/recovery.signal", spool]
    }

    /// A configuration-file string: single quotes doubled.
    static func quoted(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// A word for `sh -c` (PostgreSQL runs restore_command through the shell).
    static func shellQuoted(_ word: String) -> String {
        word.allSatisfy({ $0.isLetter || $0.isNumber || "/._-=:".contains($0) }) ? word
            : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// The setting `name` as the restored configuration gives it (postgresql.auto.conf over
    /// postgresql.conf, the last line winning), unquoted; nil when neither sets it.
    static func setting(_ name: String, in dataDirectory: String) -> String? {
        var value: String?
        for file in ["postgresql.conf", "postgresql.auto.conf"] {
            guard let text = try? String(contentsOfFile: "\(dataDirectory)/\(file)", encoding: .utf8) else { continue }
            for line in text.split(whereSeparator: \.isNewline) {
                let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                let parts = content.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces).lowercased() == name else { continue }
                var raw = parts[1].trimmingCharacters(in: .whitespaces)
                if raw.hasPrefix("'"), raw.hasSuffix("'"), raw.count >= 2 {
                    raw = String(raw.dropFirst().dropLast()).replacingOccurrences(of: "''", with: "'")
                }
                value = raw
            }
        }
        return value
    }
}
