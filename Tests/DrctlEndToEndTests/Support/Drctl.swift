import Foundation
import Glibc

/// Runs the built `drctl` binary (it sits beside the test bundle in the build folder).
enum Drctl {
    static let binary: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // swift-testing may run from inside drctlPackageTests.xctest.
        for _ in 0..<3 {
            let candidate = directory.appendingPathComponent("drctl").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        fatalError("drctl binary not found near \(exe); run `swift build` first")
    }()

    struct Result: CustomStringConvertible {
        let status: Int32
        let stdout: String
        let stderr: String

        var description: String { "exit \(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }
    }

    /// Runs drctl with `arguments`; returns its exit status and outputs.
    ///
    /// drctl may dump core (the shell lifts the limit for it alone, then execs it, and
    /// `DRCTL_ALLOW_CORE_DUMPS=1` keeps drctl from forbidding it), and a run that crashed
    /// carries the core's backtrace in its stderr: a crash seen once in CI, after drctl's work
    /// was done, left nothing else to go on. `allowCoreDumps: false` runs drctl as operators do.
    @discardableResult
    static func run(_ arguments: [String], environment: [String: String] = [:], allowCoreDumps: Bool = true) throws -> Result {
        let started = Date()
        var environment = environment
        if environment["DRCTL_ALLOW_CORE_DUMPS"] == nil { environment["DRCTL_ALLOW_CORE_DUMPS"] = allowCoreDumps ? "1" : "" }
        let result = try Command.run(["/bin/sh", "-c", "ulimit -c unlimited 2>/dev/null; exec \"$0\" \"$@\"", binary] + arguments,
                                     environment: environment)
        guard crashSignals.contains(result.status - 128) else { return result }
        return Result(status: result.status, stdout: result.stdout, stderr: result.stderr + crashReport(since: started))
    }

    /// The read cache of every drctl the tests run (unless a test names its own): one per test
    /// process, so runs never touch the user's `~/.cache/drctl`, and the suite exercises it.
    static let cacheDirectory = FileManager.default.temporaryDirectory
        .appendingPathComponent("drctl-test-cache-\(getpid())").path

    private static let crashSignals: Set<Int32> = [SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV]

    /// The threads' backtraces from the core the crash left in the working directory (the
    /// kernel's core_pattern here is `core`; `core.PID` with core_uses_pid), which is then removed.
    private static func crashReport(since started: Date) -> String {
        let directory = FileManager.default.currentDirectoryPath
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let cores = names.filter { $0 == "core" || $0.hasPrefix("core.") }.map { "\(directory)/\($0)" }.filter { path in
            ((try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date).map { $0 >= started.addingTimeInterval(-1) } ?? false
        }
        guard let core = cores.first else {
            let pattern = (try? String(contentsOfFile: "/proc/sys/kernel/core_pattern", encoding: .utf8)) ?? "?"
            return "\n--- no core file in \(directory) (core_pattern: \(pattern.trimmingCharacters(in: .whitespacesAndNewlines)))"
        }
        defer { unlink(core) }
        let gdb = try? Command.run(["gdb", "-batch", "-nx", "-iex", "set debuginfod enabled off", "-ex", "info threads", "-ex", "thread apply all bt 40", binary, core])
        return "\n--- backtraces from \(core)\n" + (gdb.map { $0.stdout + $0.stderr } ?? "gdb did not run")
    }
}

/// drctl started in the background, for tests that act while it runs (kill a server, send a
/// signal); its outputs go to files.
final class RunningDrctl {
    let process = Process()
    private let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-bg-\(UUID().uuidString)")

    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        process.executableURL = URL(fileURLWithPath: Drctl.binary)
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        merged.removeValue(forKey: "DRCTL_POLICY")
        merged["DRCTL_CACHE_DIR"] = Drctl.cacheDirectory
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        for name in ["stdout", "stderr"] {
            _ = FileManager.default.createFile(atPath: scratch.appendingPathComponent(name).path, contents: nil)
        }
        process.standardOutput = try FileHandle(forWritingTo: scratch.appendingPathComponent("stdout"))
        process.standardError = try FileHandle(forWritingTo: scratch.appendingPathComponent("stderr"))
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: scratch)
    }

    /// Standard error so far (while it runs).
    func peekStderr() -> String {
        (try? String(contentsOf: scratch.appendingPathComponent("stderr"), encoding: .utf8)) ?? ""
    }

    /// Waits for the exit and returns what `Drctl.run` would have.
    func wait() -> Drctl.Result {
        process.waitUntilExit()
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        func read(_ name: String) -> String {
            (try? String(contentsOf: scratch.appendingPathComponent(name), encoding: .utf8)) ?? ""
        }
        return Drctl.Result(status: status, stdout: read("stdout"), stderr: read("stderr"))
    }
}

/// Polls `condition` every 50 ms for up to `seconds`; true when it held.
func eventually(within seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(50_000)
    }
    return try condition()
}

/// A child process run to completion with its outputs captured in files (no pipe deadlocks).
enum Command {
    static func run(_ argv: [String], environment: [String: String] = [:]) throws -> Drctl.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: argv[0].hasPrefix("/") ? argv[0] : "/usr/bin/env")
        process.arguments = argv[0].hasPrefix("/") ? Array(argv.dropFirst()) : argv
        var merged = ProcessInfo.processInfo.environment
        merged.removeValue(forKey: "DRCTL_POLICY")
        merged["DRCTL_CACHE_DIR"] = Drctl.cacheDirectory
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-out-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appendingPathComponent("stdout")
        let err = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return Drctl.Result(status: status,
                            stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                            stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    /// Runs a shell pipeline; fails the caller if it fails.
    @discardableResult
    static func shell(_ script: String) throws -> String {
        let result = try run(["/bin/sh", "-c", script])
        guard result.status == 0 else { throw ShellFailed(script: script, result: result) }
        return result.stdout
    }

    struct ShellFailed: Error, CustomStringConvertible {
        let script: String
        let result: Drctl.Result
        var description: String { "`\(script)` failed: \(result)" }
    }
}
