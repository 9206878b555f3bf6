import Foundation
import Testing

/// The harness's crash report (`Drctl.run`): a drctl that dies of a crash signal leaves a core,
/// and the failure shows every thread's backtrace from it. Here drctl's own command target sends
/// it SIGABRT (with Swift's backtracer off, so the signal's default action dumps core at once).
@Suite struct CrashReportTests {
    @Test func aCrashedRunCarriesItsBacktraces() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("t", ["sh", "-c", "kill -ABRT $PPID; sleep 3"])])
        let crashed = try Drctl.run(["backup", "--policy", sandbox.policyPath], environment: ["SWIFT_BACKTRACE": "enable=no"])
        #expect(crashed.status == 128 + SIGABRT, "\(crashed)")
        let pattern = (try String(contentsOfFile: "/proc/sys/kernel/core_pattern", encoding: .utf8))
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard pattern == "core" else {
            // Cores go elsewhere on this machine (a pipe to a collector, another path): the
            // report says so instead of staying silent.
            #expect(crashed.stderr.contains("--- no core file in") && crashed.stderr.contains(pattern), "\(crashed.stderr.suffix(2000))")
            return
        }
        #expect(crashed.stderr.contains("--- backtraces from"), "\(crashed.stderr.suffix(2000))")
        #expect(crashed.stderr.contains("Program terminated with signal SIGABRT") && crashed.stderr.contains("Thread 1 "),
                "gdb read the core: \(crashed.stderr.suffix(4000))")
        #expect(!FileManager.default.fileExists(atPath: FileManager.default.currentDirectoryPath + "/core"), "the core is removed")
    }
}
