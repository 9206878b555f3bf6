import Foundation
import Glibc
import Testing

/// drctl holds the repository's secret key and data keys in memory, so it never dumps core
/// (issue #22, "Secret hygiene"): a core would write them to disk. Only
/// `DRCTL_ALLOW_CORE_DUMPS=1`, for debugging, lets it (the harness sets it, so that a crash
/// carries its backtraces: `CrashReportTests`).
@Suite struct CoreDumpTests {
    /// drctl's own limits, as its command target's program (whose parent is drctl) reads them
    /// while drctl runs, after the shell lifted the limit for it.
    func coreLimit(allowCoreDumps: Bool) throws -> String {
        let sandbox = try Sandbox()
        let limits = "\(sandbox.root)/limits"
        try sandbox.writePolicy(targets: [("t", ["sh", "-c", "cat /proc/$PPID/limits > '\(limits)'; echo data"])])
        let backup = try Drctl.run(["backup", "--policy", sandbox.policyPath], allowCoreDumps: allowCoreDumps)
        #expect(backup.status == 0, "\(backup)")
        let line = try String(contentsOfFile: limits, encoding: .utf8).split(separator: "\n")
            .first { $0.hasPrefix("Max core file size") }
        return try #require(line).split(separator: " ", omittingEmptySubsequences: true).dropFirst(4).prefix(2).joined(separator: " ")
    }

    @Test func drctlForbidsCoresOfItself() throws {
        #expect(try coreLimit(allowCoreDumps: false) == "0 0")
    }

    @Test func theDebuggingOptInKeepsTheLimitItWasGiven() throws {
        #expect(try coreLimit(allowCoreDumps: true) == "unlimited unlimited")
    }

    /// A crash leaves no core, though the shell lifted the limit (and `CrashReportTests` shows
    /// that the same crash with the opt-in does). drctl runs in a directory of its own, where
    /// the kernel's `core` pattern would put the core: no other test's core can be taken for it.
    @Test func aCrashLeavesNoCore() throws {
        let pattern = (try String(contentsOfFile: "/proc/sys/kernel/core_pattern", encoding: .utf8))
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("t", ["sh", "-c", "kill -ABRT $PPID; sleep 3"])])
        let directory = "\(sandbox.root)/cwd"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let crashed = try Command.run(["/bin/sh", "-c", "cd \"$1\" && ulimit -c unlimited && shift && exec \"$@\"", "sh", directory,
                                       Drctl.binary, "backup", "--policy", sandbox.policyPath],
                                      environment: ["SWIFT_BACKTRACE": "enable=no", "DRCTL_ALLOW_CORE_DUMPS": ""])
        #expect(crashed.status == 128 + SIGABRT, "\(crashed)")
        // Where cores go elsewhere (a pipe to a collector, another path), there is none to look for.
        guard pattern == "core" || pattern.hasPrefix("core.") else { return }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("core") } == [])
    }
}
