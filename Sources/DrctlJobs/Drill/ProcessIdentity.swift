import Foundation
import Glibc

/// A process named by its pid and its start time (field 22 of `/proc/<pid>/stat`), so that a
/// pid reused by another process later is not mistaken for it.
struct ProcessIdentity: Sendable, Equatable {
    let pid: pid_t
    let startTime: UInt64

    static func current() -> ProcessIdentity {
        of(getpid()) ?? ProcessIdentity(pid: getpid(), startTime: 0)
    }

    static func of(_ pid: pid_t) -> ProcessIdentity? {
        status(of: pid).map { ProcessIdentity(pid: pid, startTime: $0.startTime) }
    }

    /// The state letter (field 3) and start time (field 22) of `/proc/<pid>/stat`, read once.
    private static func status(of pid: pid_t) -> (state: Substring, startTime: UInt64)? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command name (which may hold spaces): state is field 3, start time 22.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let start = UInt64(fields[19]) else { return nil }
        return (fields[0], start)
    }

    /// `argv` of a running process joined by spaces, nil if it is gone.
    static func command(of pid: pid_t) -> String? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return nil }
        return String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
    }

    /// "pid start-time".
    var text: String { "\(pid) \(startTime)\n" }

    init(pid: pid_t, startTime: UInt64) {
        self.pid = pid
        self.startTime = startTime
    }

    init?(text: String) {
        let parts = text.split(whereSeparator: \.isWhitespace)
        guard parts.count == 2, let pid = pid_t(parts[0]), let start = UInt64(parts[1]) else { return nil }
        self.init(pid: pid, startTime: start)
    }

    /// Still running (and not a zombie): the same pid with the same start time.
    var isAlive: Bool {
        guard let now = Self.status(of: pid) else { return false }
        return now.startTime == startTime && now.state != "Z"
    }
}
