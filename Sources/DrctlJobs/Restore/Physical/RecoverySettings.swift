import Foundation
import Logging

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
    /// The read-ahead spool restore_command names (`spoolDirectory(besides:)`); "off": none.
    var spool: String
    let recoveryTarget: RecoveryTarget
    /// `--timeline`: a number, `latest` or `current`; nil: PostgreSQL's default (`latest`).
    let timeline: String?
    /// `--port`: written so that every later start uses it too.
    let port: Int?
    /// false: `archive_mode = off` (a drill's scratch copy).
    var archiving = true
    /// What the lines are for (a comment above them).
    var note: String

    /// `wal-fetch`'s spool (`WalSpool`) for a data directory: beside it, outside it (nothing of
    /// drctl's among PostgreSQL's files, nor in a later backup of the promoted server), in the
    /// same parent so normally on the file system of `%p` (a spooled segment is served by a
    /// rename), new with every restore (never another cluster's or another recovery's) and, like
    /// PGDATA, the server's user's alone. Absolute: the server runs `restore_command` in PGDATA.
    static func spoolDirectory(besides dataDirectory: String) -> String {
        var data = dataDirectory
        while data.count > 1, data.hasSuffix("/") { data.removeLast() }
        return data + ".drctl-wal-spool"
    }

    var restoreCommand: String {
        [drctl, "wal-fetch", "--policy", policyPath, "--target", target, "--spool", spool]
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

    /// Creates the spool empty (mode 0700), before the settings name it. A spool that cannot be
    /// made costs speed, not the restore: the settings then say `--spool off` and the warning
    /// on `logger` names why.
    mutating func prepareSpool(logger: Logger) -> [String] {
        do {
            if FileManager.default.fileExists(atPath: spool) { try FileManager.default.removeItem(atPath: spool) }
            try FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            return [spool]
        } catch {
            logger.warning("WAL read-ahead is off for this recovery: its spool cannot be made", metadata: [
                "spool": "\(spool)", "error": "\(error)"])
            spool = "off"
            return []
        }
    }

    /// Writes the settings and `recovery.signal`; returns what it wrote, to be given to the
    /// server's user.
    func write(into dataDirectory: String) throws -> [String] {
        let auto = "\(dataDirectory)/postgresql.auto.conf"
        let existing = (try? String(contentsOfFile: auto, encoding: .utf8)) ?? ""
        try (existing + lines.joined(separator: "\n") + "\n").write(toFile: auto, atomically: true, encoding: .utf8)
        // Not createFile (whose false says nothing): without recovery.signal the server would
        // start as a primary at the base backup's end, never asking for the archive's WAL.
        try Data().write(to: URL(fileURLWithPath: "\(dataDirectory)/recovery.signal"))
        return [auto, "\(dataDirectory)/recovery.signal"]
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
