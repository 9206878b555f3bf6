import Foundation
import Glibc
import DrctlPipeline
import DrctlSources

/// Restores into a program's standard input (`pg_restore`, `psql`): the program's exit status
/// decides whether the restore succeeded. Its stdout is drained and dropped; the tail of its
/// stderr goes into the error.
final class ProgramSink: ByteSink {
    let child: ChildProcess
    /// Lines of the program's stderr that do not count as failure (e.g. "already exists").
    private let tolerated: (String) -> Bool

    init(argv: [String], environment: ChildEnvironment, tolerating tolerated: @escaping (String) -> Bool = { _ in false }) throws {
        child = try ChildProcess(argv: argv, environment: environment, input: true)
        self.tolerated = tolerated
        let child = self.child
        Thread.detachNewThread {
            var buffer = [UInt8](repeating: 0, count: 16384)
            while case .success(let count) = buffer.withUnsafeMutableBytes({ FileDescriptorIO.read(child.stdout, into: $0) }),
                  count > 0 {}
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        if let error = FileDescriptorIO.writeAll(child.stdin, bytes) {
            // EPIPE: the program stopped reading; its exit says why.
            child.closeStdin()
            throw RestoreProgramError(program: child.programName, exit: child.wait(), stderr: child.stderr,
                                      detail: error.code == EPIPE ? nil : "\(error)")
        }
    }

    func finish() throws {
        child.closeStdin()
        let exit = child.wait()
        let errors = child.stderr.split(separator: "\n").map(String.init)
            .filter { $0.contains("ERROR") || $0.contains("error:") }
        // psql exits 0 after SQL errors unless ON_ERROR_STOP: its stderr tells.
        if !exit.succeeded || errors.contains(where: { !tolerated($0) }) {
            throw RestoreProgramError(program: child.programName, exit: exit, stderr: child.stderr, detail: nil)
        }
    }

    func abort() {
        child.closeStdin()
        child.terminate(grace: 5)
        child.wait()
    }
}

public struct RestoreProgramError: Error, CustomStringConvertible {
    public let program: String
    public let exit: ChildExit
    public let stderr: String
    public let detail: String?

    public var description: String {
        let said = stderr.isEmpty ? "" : "; it said: \(stderr)"
        return "'\(program)' \(exit)\(detail.map { " (\($0))" } ?? "")\(said)"
    }
}
