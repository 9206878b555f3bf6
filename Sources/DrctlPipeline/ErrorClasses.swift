import DrctlErrors

// Every error type of DrctlPipeline declares its exit class (README, "Exit codes"), here, in one
// place per module: `ErrorDeclarationTests` fails when an error type has none.

extension IntegrityError: ClassifiedError {
    /// A stored object's bytes are not those its manifest recorded.
    public var exitClass: ExitClass {
        switch self {
        case .sizeMismatch, .digestMismatch: return .integrity
        }
    }
}

extension ZstdError: ClassifiedError {
    /// Mostly a compressed stream that does not decompress (truncated, corrupt): stored data.
    public var exitClass: ExitClass { .integrity }
}

extension Errno: ClassifiedError {
    /// A system call failed (a pipe, a write, a full disk).
    public var exitClass: ExitClass { .failed }
}

extension PipelineStopped: ClassifiedError {
    /// A stage stopped because another failed: never the cause reported.
    public var exitClass: ExitClass { .failed }
}
