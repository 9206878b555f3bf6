import DrctlErrors

// Every error type of DrctlStorage declares its exit class (README, "Exit codes"), here, in one
// place per module: `ErrorDeclarationTests` fails when an error type has none.

extension StorageError: ClassifiedError {
    /// A store that cannot be read or written (permission denied, a wrong secret, a full disk,
    /// an object in the way) failed the operation, as any region that cannot be written. An
    /// object drctl listed or a manifest named that is not there, or one larger than drctl ever
    /// writes, is damage to what is stored. A key outside the key rules came from a name drctl
    /// was given.
    public var exitClass: ExitClass {
        switch self {
        case .io, .noSpace, .alreadyExists: return .failed
        case .notFound, .tooLarge: return .integrity
        case .invalidKey: return .invalid
        }
    }
}

extension HTTPError: ClassifiedError {
    /// No usable answer from a server: the operation failed.
    public var exitClass: ExitClass {
        switch self {
        case .transport, .responseTooLarge, .cancelled: return .failed
        }
    }
}

extension HTTPStatusError: ClassifiedError {
    /// A server that refused the request: the operation failed.
    public var exitClass: ExitClass { .failed }
}

extension S3ConfigurationError: ClassifiedError {
    /// A region's endpoint, bucket or part size that cannot work: the policy is invalid.
    public var exitClass: ExitClass { .invalid }
}

extension WebIdentityError: ClassifiedError {
    /// The token file or STS failed: credentials could not be obtained, the operation failed.
    public var exitClass: ExitClass { .failed }
}

extension CacheWriteError: ClassifiedError {
    public var exitClass: ExitClass { .failed }
}

extension RegionQuorumError: ClassifiedError {
    /// Too few regions could store the backup.
    public var exitClass: ExitClass { .failed }
}

extension RegionStalled: ClassifiedError {
    public var exitClass: ExitClass { .failed }
}

extension RegionWriterGone: ClassifiedError {
    var exitClass: ExitClass { .failed }
}

extension UnreadableManifest: ClassifiedError {
    /// As the error that made it unreadable.
    public var exitClass: ExitClass { ExitClass.of(error) }
}

extension RepositoryError: ClassifiedError {
    public var exitClass: ExitClass {
        switch self {
        case .unreadable, .refused, .unauthenticated: return .integrity
        // Nothing is wrong with it: this drctl is too old to read it.
        case .newerFormat: return .failed
        }
    }
}

extension SealFailure: ClassifiedError {
    /// A document that does not authenticate was planted or altered; one that cannot be
    /// checked lacks the writer keys that would check it.
    public var exitClass: ExitClass {
        switch self {
        case .tampered, .unknownWriter, .malformed: return .integrity
        case .uncheckable: return .key
        }
    }
}

extension IdentityError: ClassifiedError {
    public var exitClass: ExitClass {
        switch self {
        case .regionsDisagree, .notPinned: return .integrity
        // The policy pins an id the (version 1) repository cannot have: upgrade it first.
        case .pinnedButVersionOne: return .invalid
        }
    }
}

extension WriterTrust.NoWriters: ClassifiedError {
    /// No writer key to check a signature with.
    var exitClass: ExitClass { .key }
}

extension SignedDocuments.ReadOnly: ClassifiedError {
    /// A reader asked to sign: no signing key.
    public var exitClass: ExitClass { .key }
}

extension RecordNotSigned: ClassifiedError {
    /// As the reason the record could not be signed (a missing signing key: a key problem).
    public var exitClass: ExitClass { ExitClass.of(reason) }
}

extension TargetLockedError: ClassifiedError {
    public var exitClass: ExitClass { .locked }
}

extension LockUnavailable: ClassifiedError {
    /// Fewer regions than required could be locked, each for its own reason (a wrong secret,
    /// a frozen endpoint); a lock another run holds is `TargetLockedError` instead.
    public var exitClass: ExitClass { .failed }
}

extension WalObjectError: ClassifiedError {
    /// A WAL object that is not what drctl writes, altered or cut: damage to what is stored; one
    /// of a newer format needs a newer drctl, the operation failed.
    public var exitClass: ExitClass {
        switch self {
        case .malformed, .unauthenticated, .damaged: return .integrity
        case .newerFormat: return .failed
        }
    }
}

extension WalHeaderError: ClassifiedError {
    /// A file given to `wal-push` that is not a WAL segment: the command line named the wrong file.
    public var exitClass: ExitClass { .invalid }
}
