import DrctlErrors

// Every error type of DrctlJobs declares its exit class (README, "Exit codes"), here, in one
// place per module: `ErrorDeclarationTests` fails when an error type has none.

extension JobError: ClassifiedError {
    public var exitClass: ExitClass {
        switch self {
        case .noKey, .secretKeyNeeded, .keyMismatch, .signingKeyNeeded, .unlistedWriter: return .key
        case .wrapSchemeNotPinned, .sizeMismatch: return .integrity
        case .noCredentials, .invalidBackupID, .needsDirectory, .invalidDestination: return .invalid
        case .unknownTarget, .unknownRegion, .noBackups, .backupNotFound, .noBackupBefore: return .notFound
        case .destinationExists: return .destinationExists
        case .interrupted(let signal): return .interrupted(by: signal)
        case .unsupportedKind: return .failed
        }
    }
}

extension RegionFailure: ClassifiedError {
    /// As the region's error.
    public var exitClass: ExitClass { ExitClass.of(error) }
}

extension RegionsExhausted: ClassifiedError {
    /// Every region failed the same way (e.g. all corrupt): that way; else failed.
    public var exitClass: ExitClass { ExitClass.common(failures) }
}

extension RestoreDestinationError: ClassifiedError {
    /// The destination could not be written (full disk, permissions).
    public var exitClass: ExitClass { .failed }
}

extension RestoreProgramError: ClassifiedError {
    /// pg_restore or another loading program failed.
    public var exitClass: ExitClass { .failed }
}

extension DatabasePropertyError: ClassifiedError {
    /// The destination server cannot create the database as it was backed up (a tablespace or
    /// locale it lacks): nothing was loaded; the mapping options say what to do.
    public var exitClass: ExitClass { .failed }
}

extension StagedLoadError: ClassifiedError {
    /// Loading into the destination failed: the destination's doing.
    var exitClass: ExitClass { .failed }
}

extension StagedLoad.Abandoned: ClassifiedError {
    /// The load was abandoned after another failure: never the cause reported.
    var exitClass: ExitClass { .failed }
}

extension StagedBlockReader.Malformed: ClassifiedError {
    /// An archive that ends early or holds an unexpected block: its stored copy authenticated,
    /// so pg_dump's archive, not storage, is at fault.
    var exitClass: ExitClass { .failed }
}

extension LockLostError: ClassifiedError {
    /// This run lost its lock before committing (it did not renew in time): the run failed;
    /// exit 8 is for a run that found the target locked before it began.
    public var exitClass: ExitClass { .failed }
}

extension SyncError: ClassifiedError {
    public var exitClass: ExitClass {
        switch self {
        case .sameRegion: return .invalid
        case .notInSource: return .notFound
        }
    }
}

extension DrillError: ClassifiedError {
    /// A drill that cannot restore or verify failed (README: a failed drill exits 1), refusing
    /// to drill into the target's own server included.
    public var exitClass: ExitClass {
        switch self {
        case .scratch, .noServerBinaries, .instanceFailed, .intoSource, .unsupported: return .failed
        }
    }
}

extension MetricsError: ClassifiedError {
    /// Metrics that could not be delivered (logged; never fails the run that made them).
    public var exitClass: ExitClass {
        switch self {
        case .textfile, .push: return .failed
        }
    }
}

extension AgentError: ClassifiedError {
    public var exitClass: ExitClass {
        switch self {
        case .badListenAddress, .nothingScheduled: return .invalid
        case .listenFailed: return .failed
        }
    }
}

extension AgentRunError: ClassifiedError {
    /// A scheduled run that finished but reported problems.
    var exitClass: ExitClass { .failed }
}

extension PhysicalBackupError: ClassifiedError {
    /// A version 1 repository must be upgraded first (the command cannot run as it is); WAL
    /// that never reached the archive fails the backup.
    public var exitClass: ExitClass {
        switch self {
        case .versionOneRepository: return .invalid
        case .walNotArchived, .walRangeUnreadable, .implausibleServerAnswer, .unreadableSystemIdentifier: return .failed
        }
    }
}

extension PhysicalRestoreError: ClassifiedError {
    public var exitClass: ExitClass {
        switch self {
        case .badTime, .badLSN, .badTimeline, .badTablespaceMap, .notPhysical, .pastArchivedWAL: return .invalid
        case .beforeOldestBackup: return .notFound
        case .dataDirectoryNotEmpty, .tablespaceDirectoryNotEmpty: return .destinationExists
        case .verifyFailed, .archiveRefused: return .integrity
        case .missingProgram, .serverFailed, .cannotPrepare: return .failed
        }
    }
}

extension WalError: ClassifiedError {
    /// A file, target or repository that cannot be archived as given is invalid usage (the
    /// command line, the policy or the repository must change, e.g. `drctl repository
    /// upgrade`); a file that cannot be read, a conflict with the archive, or too few regions
    /// failed the push, and PostgreSQL retries it.
    public var exitClass: ExitClass {
        switch self {
        case .notPhysical, .notWalFileName, .notASegment, .otherCluster, .unknownSystem, .noSystemIdentifier, .versionOneRepository,
             .untrustedSpool:
            return .invalid
        case .unreadableFile, .conflict, .quorum, .bodyNotReadBack: return .failed
        }
    }
}

extension WalFetchFailed: ClassifiedError {
    /// Not fetched, and not absent everywhere: recovery must stop.
    public var exitClass: ExitClass { .walUnavailable }
}

extension WalOpener.Failure: ClassifiedError {
    /// As what went wrong: a region that could not be read, a copy refused, a key, the destination.
    var exitClass: ExitClass {
        switch self {
        case .read: return .failed
        case .integrity: return .integrity
        case .key(let error), .destination(let error): return ExitClass.of(error)
        }
    }
}
