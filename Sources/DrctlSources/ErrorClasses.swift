import DrctlErrors

// Every error type of DrctlSources declares its exit class (README, "Exit codes"), here, in one
// place per module: `ErrorDeclarationTests` fails when an error type has none.
//
// A database server that refuses us (a wrong password, an unknown role or database, missing
// privileges) is the source failing, README's exit 1: exit 4 is about drctl's own keys and
// exit 5 about drctl's targets and backups, neither about names on the server.

extension SourceError: ClassifiedError {
    /// The source program could not start, its output could not be read, or it failed.
    public var exitClass: ExitClass {
        switch self {
        case .cannotStart, .readFailed, .programFailed: return .failed
        }
    }
}

extension PostgresError: ClassifiedError {
    public var exitClass: ExitClass {
        switch kind {
        case .unreachable, .authenticationFailed, .databaseDoesNotExist, .permissionDenied, .queryFailed,
             .connectionFailed, .pgDumpTooOld, .pgDumpUnusable, .unsupportedServer:
            return .failed
        }
    }
}

extension PostgresPasswordError: ClassifiedError {
    /// A password (the secret's value, read as the run starts) that no PostgreSQL client program
    /// can be given: the run failed, as for an unset secret (`SecretError`).
    public var exitClass: ExitClass { .failed }
}

extension RedisError: ClassifiedError {
    public var exitClass: ExitClass {
        switch self {
        case .cannotResolve, .connectionRefused, .unreachable, .passwordRequired, .authenticationFailed,
             .commandRefused, .incompleteTransfer, .connectionClosed, .protocolViolation, .timedOut,
             .socketFailed, .cancelled:
            return .failed
        }
    }
}

extension MemoryFileError: ClassifiedError {
    public var exitClass: ExitClass { .failed }
}

extension LoopbackPort.Failure: ClassifiedError {
    public var exitClass: ExitClass { .failed }
}

extension DatabaseDefinition.Failure: ClassifiedError {
    /// A CREATE DATABASE statement drctl cannot read. The archive it comes from was
    /// authenticated on the way out of storage, so this is not damage: the restore fails.
    public var exitClass: ExitClass {
        switch self {
        case .unexpected: return .failed
        }
    }
}

extension CustomArchiveScanner.Failure: ClassifiedError {
    /// An archive pg_dump wrote that drctl cannot follow (its stored copy is authenticated).
    public var exitClass: ExitClass {
        switch self {
        case .notAnArchive, .unsupportedVersion, .compressed, .malformed: return .failed
        }
    }
}

extension CustomArchiveScanner.NeedMore: ClassifiedError {
    /// The scanner waits for more bytes: never leaves the scanner.
    var exitClass: ExitClass { .failed }
}

extension ArchiveHead.Complete: ClassifiedError {
    /// The head is read: the reader may stop. Never reported.
    public var exitClass: ExitClass { .failed }
}

extension ArchiveHead.Failure: ClassifiedError {
    public var exitClass: ExitClass {
        switch self {
        case .unreadable, .truncated, .noDatabaseEntry: return .failed
        }
    }
}

extension RDBHeaderParser.NeedMore: ClassifiedError {
    /// The parser waits for more bytes: never leaves the parser.
    var exitClass: ExitClass { .failed }
}

extension RDBHeaderParser.Unsupported: ClassifiedError {
    /// A header drctl does not follow: never leaves the parser (the facts are then unknown).
    var exitClass: ExitClass { .failed }
}
