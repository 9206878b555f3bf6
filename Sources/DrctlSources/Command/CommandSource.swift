import DrctlPipeline

/// The stdout of a program (argv, no shell) as a byte source. The program's exit status
/// decides whether the stream was complete: a non-zero status or a signal fails the backup.
public final class CommandSource: ByteSource {
    public let child: ChildProcess

    /// - Parameter environment: all the program gets (`ChildEnvironment`).
    public init(argv: [String], environment: ChildEnvironment = .minimal()) throws {
        guard !argv.isEmpty else { throw SourceError.cannotStart(program: "", reason: "the command is empty") }
        child = try ChildProcess(argv: argv, environment: environment)
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        switch FileDescriptorIO.read(child.stdout, into: buffer) {
        case .success(let count): return count
        case .failure(let error): throw SourceError.readFailed(program: child.programName, reason: "\(error)")
        }
    }

    public func finish() throws {
        let exit = child.wait()
        guard exit.succeeded else {
            throw SourceError.programFailed(program: child.programName, exit: exit, stderr: child.stderr)
        }
    }

    public func cancel() {
        child.terminate()
    }
}
