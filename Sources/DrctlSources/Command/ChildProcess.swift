import Glibc
import Foundation
import Synchronization
import DrctlPipeline

/// A program started with posix_spawn, its stdout on a pipe we read, its stderr collected
/// (the last few KiB, for error messages), stdin from /dev/null. No shell is involved.
public final class ChildProcess: Sendable {
    public let argv: [String]
    public let pid: pid_t
    /// Read end of the child's stdout.
    public let stdout: Int32
    /// Write end of the child's stdin when started with `input: true`, else -1.
    public let stdin: Int32
    private let stderrTail: StderrTail
    private let exit = Mutex<ChildExit?>(nil)

    /// Starts `argv` (looked up in drctl's PATH) with exactly `environment` (never drctl's own:
    /// see `ChildEnvironment`).
    /// - Parameter input: give the child a pipe as stdin (`stdin`) instead of /dev/null.
    public init(argv: [String], environment: ChildEnvironment = .minimal(), input: Bool = false) throws {
        precondition(!argv.isEmpty)
        self.argv = argv
        // Pipes are created and the child spawned under one lock: without pipe2(O_CLOEXEC)
        // (not exported to Swift) a concurrent spawn could otherwise inherit our pipe ends.
        spawnLock.lock()
        defer { spawnLock.unlock() }
        var outPipe: [Int32] = [0, 0]
        var errPipe: [Int32] = [0, 0]
        var inPipe: [Int32] = [-1, -1]
        guard pipe(&outPipe) == 0, pipe(&errPipe) == 0, !input || pipe(&inPipe) == 0 else {
            throw SourceError.cannotStart(program: argv[0], reason: String(cString: strerror(errno)))
        }
        for fd in outPipe + errPipe + inPipe where fd >= 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        // Bigger pipes, fewer wake-ups; the kernel may refuse (then the default stays). A
        // streamed restore into pg_restore's stdin: 1.13-1.23 system CPU-s instead of 1.20-1.63.
        _ = fcntl(outPipe[0], fcntlSetPipeSize, 1 << 20)
        if input { _ = fcntl(inPipe[1], fcntlSetPipeSize, 1 << 20) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if input {
            posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        // The environment's file as descriptor 3 (dup2 clears its close-on-exec in the child).
        var firstClosed: Int32 = 3
        if let file = environment.file {
            posix_spawn_file_actions_adddup2(&actions, file.descriptor, ChildEnvironment.fileDescriptor)
            firstClosed = ChildEnvironment.fileDescriptor + 1
        }
        // Nothing else: not a descriptor drctl inherited without close-on-exec, nor one a library
        // opened without it. (Our own are close-on-exec.)
        _ = GlibcSymbols.addCloseFrom?(&actions, firstClosed)

        // The child starts with default signal handling even though drctl ignores SIGPIPE, and
        // routes SIGINT/SIGTERM through a dispatch source (which sets them to SIG_IGN): ignored
        // signals would otherwise stay ignored in the child, and `terminate()` would not work.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var noMask = sigset_t()
        sigemptyset(&noMask)
        posix_spawnattr_setsigmask(&attributes, &noMask)
        // Its own process group, so that stopping it stops what it started too: a shell's
        // `sleep` or the other end of its pipeline would otherwise keep our pipe open.
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))

        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = environment.entries.map { strdup($0) } + [nil]
        defer {
            cArgv.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        var child: pid_t = 0
        // ETXTBSY: the program file is still open for writing somewhere, typically because a
        // concurrent fork (ours or a library's) inherited the descriptor of the writer that just
        // installed it and has not exec'd yet. That clears within milliseconds; retry briefly.
        // The wait is outside the lock, so that other starts go on meanwhile: our pipe ends are
        // close-on-exec by now, so no child started meanwhile can inherit them.
        var status = posix_spawnp(&child, argv[0], &actions, &attributes, cArgv, cEnv)
        var busyRetries = 0
        while status == ETXTBSY && busyRetries < 20 {
            busyRetries += 1
            spawnLock.unlock()
            usleep(UInt32(5_000 * busyRetries))
            spawnLock.lock()
            status = posix_spawnp(&child, argv[0], &actions, &attributes, cArgv, cEnv)
        }
        close(outPipe[1])
        close(errPipe[1])
        if input { close(inPipe[0]) }
        guard status == 0 else {
            close(outPipe[0])
            close(errPipe[0])
            if input { close(inPipe[1]) }
            throw SourceError.cannotStart(program: argv[0], reason: String(cString: strerror(status)))
        }
        self.pid = child
        self.stdout = outPipe[0]
        self.stdin = inPipe[1]
        self.stderrTail = StderrTail(fd: errPipe[0])
    }

    /// Waits for the child to exit (once; later calls return the same result).
    @discardableResult
    public func wait() -> ChildExit {
        if let known = exit.withLock({ $0 }) { return known }
        var status: Int32 = 0
        var result: pid_t
        repeat { result = waitpid(pid, &status, 0) } while result == -1 && errno == EINTR
        let outcome: ChildExit
        if result == -1 {
            outcome = .exited(code: -1)
        } else if status & 0x7f == 0 {
            outcome = .exited(code: (status >> 8) & 0xff)
        } else {
            outcome = .killed(signal: status & 0x7f)
        }
        stderrTail.join()
        exit.withLock { $0 = outcome }
        return outcome
    }

    /// The exit, if the child has exited; never blocks.
    public func poll() -> ChildExit? {
        if let known = exit.withLock({ $0 }) { return known }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        let outcome: ChildExit = status & 0x7f == 0 ? .exited(code: (status >> 8) & 0xff) : .killed(signal: status & 0x7f)
        exit.withLock { $0 = outcome }
        return outcome
    }

    /// The next line of the child's stdout without its newline (byte by byte: only for short
    /// handshakes, such as a helper server printing its port), or nil at end of output.
    public func readLine() -> String? {
        var line: [UInt8] = []
        var byte: [UInt8] = [0]
        while true {
            let result = byte.withUnsafeMutableBytes { FileDescriptorIO.read(stdout, into: $0) }
            guard case .success(1) = result else { return line.isEmpty ? nil : String(decoding: line, as: UTF8.self) }
            if byte[0] == 0x0a { return String(decoding: line, as: UTF8.self) }
            line += byte
        }
    }

    /// What the child wrote to stderr (the last 4 KiB), trimmed; valid after `wait()`.
    public var stderr: String { stderrTail.text }

    /// Asks the child and its process group to stop (SIGTERM), then forces them (SIGKILL)
    /// after `grace` seconds if the child has not exited by then.
    public func terminate(grace: Double = 5) {
        if exit.withLock({ $0 }) != nil { return }
        kill(-pid, SIGTERM)
        Thread.detachNewThread { [self] in
            var waited = 0.0
            while waited < grace {
                if exit.withLock({ $0 }) != nil { return }
                usleep(100_000)
                waited += 0.1
            }
            if exit.withLock({ $0 }) == nil { kill(-pid, SIGKILL) }
        }
    }

    deinit {
        close(stdout)
        closeStdin()
        // Never leave a child behind: one nobody waited for is stopped and reaped here.
        if poll() == nil {
            kill(-pid, SIGKILL)
            wait()
        }
    }

    private let stdinClosed = Mutex(false)

    /// Ends the child's input (it sees end of file); safe to call more than once.
    public func closeStdin() {
        guard stdin >= 0 else { return }
        let first = stdinClosed.withLock { closed -> Bool in
            defer { closed = true }
            return !closed
        }
        if first { close(stdin) }
    }

    /// "pg_dump" rather than "/usr/lib/postgresql/15/bin/pg_dump", for messages.
    public var programName: String { String(argv[0].split(separator: "/").last ?? Substring(argv[0])) }
}

/// An NSLock, not a Mutex: `init` lets it go while it waits out ETXTBSY and takes it again.
private let spawnLock = NSLock()
/// F_SETPIPE_SZ from <fcntl.h>, hidden from Swift behind _GNU_SOURCE.
private let fcntlSetPipeSize: Int32 = 1031

public enum ChildExit: Sendable, Equatable, CustomStringConvertible {
    case exited(code: Int32)
    case killed(signal: Int32)

    public var succeeded: Bool { self == .exited(code: 0) }

    public var description: String {
        switch self {
        case .exited(let code): return "exited with status \(code)"
        case .killed(let signal):
            let name = strsignal(signal).map { String(cString: $0) } ?? "signal \(signal)"
            return "was killed by signal \(signal) (\(name))"
        }
    }
}

/// Reads a child's stderr on its own thread and keeps the last 4 KiB.
// unchecked: `bytes` and `done` are guarded by `finished` (an NSCondition, for `join`'s wait).
private final class StderrTail: @unchecked Sendable {
    private let limit = 4096
    private var bytes: [UInt8] = []
    private let finished = NSCondition()
    private var done = false

    init(fd: Int32) {
        Thread.detachNewThread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                finished.lock()
                bytes.append(contentsOf: buffer[..<count])
                if bytes.count > limit { bytes.removeFirst(bytes.count - limit) }
                finished.unlock()
            }
            close(fd)
            finished.lock()
            done = true
            finished.broadcast()
            finished.unlock()
        }
    }

    func join() {
        finished.lock()
        // A grandchild may keep stderr open after the child exits; don't wait forever.
        let deadline = Date().addingTimeInterval(2)
        while !done && finished.wait(until: deadline) {}
        finished.unlock()
    }

    var text: String {
        finished.lock()
        defer { finished.unlock() }
        return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

extension ChildProcess {
    /// A short-lived program run to completion (`pg_dump --version`, a test's helper script).
    public struct Completed: Sendable {
        public let exit: ChildExit
        public let stdout: String
        /// The last 4 KiB of its standard error.
        public let stderr: String
    }

    /// Runs `argv` to completion and collects its output. Use this rather than
    /// Foundation.Process, whose waitUntilExit can hang when called from Swift concurrency
    /// threads on Linux.
    public static func run(_ argv: [String], environment: ChildEnvironment = .minimal()) throws -> Completed {
        let output = try output(of: argv, environment: environment)
        return Completed(exit: output.exit, stdout: String(decoding: output.stdout, as: UTF8.self), stderr: output.stderr)
    }

    /// Runs `argv` to completion; its stdout as bytes (a script in a database's own encoding).
    public static func output(of argv: [String], environment: ChildEnvironment = .minimal()) throws
        -> (exit: ChildExit, stdout: [UInt8], stderr: String) {
        let child = try ChildProcess(argv: argv, environment: environment)
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let result = buffer.withUnsafeMutableBytes { FileDescriptorIO.read(child.stdout, into: $0) }
            guard case .success(let count) = result, count > 0 else { break }
            output += buffer[..<count]
        }
        let exit = child.wait()
        return (exit, output, child.stderr)
    }
}
