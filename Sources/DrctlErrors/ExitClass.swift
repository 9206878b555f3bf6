/// What kind of failure an error is, as an operator's script sees it: the process's exit code
/// (README, "Exit codes", is the contract; `ExitClassTests` reads that table and checks every
/// error of every module against it).
///
/// Every error type drctl declares says its own class (`ClassifiedError`), so a new error type
/// cannot end up as exit 1 just because nobody remembered to map it; `ErrorDeclarationTests`
/// fails when one does not.
public enum ExitClass: Int32, Sendable, CaseIterable {
    /// The operation failed: the source program failed or was killed, a region could not be
    /// written, too few regions, a server refused us, …
    case failed = 1
    /// Invalid usage or invalid policy: the command line or the configuration must change.
    case invalid = 2
    /// Stored data or a manifest was altered, truncated or corrupted.
    case integrity = 3
    /// No key, the wrong key, or only the public key where the secret key is needed.
    case key = 4
    /// No such target or backup, or no backups yet.
    case notFound = 5
    /// The restore destination exists (`--force` replaces it).
    case destinationExists = 6
    /// `drctl drill`: restored and verified, but the RTO or RPO was over its objective.
    case objectivesMissed = 7
    /// The target is locked: another backup or prune of it is running.
    case locked = 8
    /// `drctl wal-fetch`: the WAL file could not be fetched, and not because every region lacks
    /// it. PostgreSQL stops recovery on a restore_command status above 125 instead of ending it.
    case walUnavailable = 126
    /// Interrupted by SIGINT (128 + 2).
    case interruptedBySIGINT = 130
    /// Interrupted by SIGTERM (128 + 15).
    case interruptedBySIGTERM = 143

    /// The class of an interruption by the signal named `signal` ("SIGINT", "SIGTERM").
    public static func interrupted(by signal: String) -> ExitClass {
        signal == "SIGINT" ? .interruptedBySIGINT : .interruptedBySIGTERM
    }

    /// The class `error` declares; an error from outside drctl (Foundation's, the system's) is
    /// `failed`.
    public static func of(_ error: any Error) -> ExitClass {
        (error as? any ClassifiedError)?.exitClass ?? .failed
    }

    /// The class several failures of one operation share (every region failed the same way,
    /// e.g. all corrupt), else `failed`.
    public static func common(_ errors: [any Error]) -> ExitClass {
        let classes = Set(errors.map(of))
        return classes.count == 1 ? classes.first! : .failed
    }
}

/// An error that declares its exit class. Every error type in drctl's sources conforms (in its
/// module's `ErrorClasses.swift`); a wrapper (one region's failure, an unreadable manifest)
/// derives its class from the error it wraps.
public protocol ClassifiedError: Error {
    var exitClass: ExitClass { get }
}
