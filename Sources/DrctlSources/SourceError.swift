import DrctlPipeline

/// Why a source could not deliver a complete stream.
public enum SourceError: Error, CustomStringConvertible {
    case cannotStart(program: String, reason: String)
    case readFailed(program: String, reason: String)
    case programFailed(program: String, exit: ChildExit, stderr: String)

    public var description: String {
        switch self {
        case .cannotStart(let program, let reason):
            return "cannot start '\(program)': \(reason)"
        case .readFailed(let program, let reason):
            return "reading the output of '\(program)' failed: \(reason)"
        case .programFailed(let program, let exit, let stderr):
            let said = stderr.isEmpty ? "" : "; it said: \(stderr)"
            return "'\(program)' \(exit)\(said); its output is incomplete, so the backup is discarded"
        }
    }
}
