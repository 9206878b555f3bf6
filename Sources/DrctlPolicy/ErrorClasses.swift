import DrctlErrors

// Every error type of DrctlPolicy declares its exit class (README, "Exit codes"), here, in one
// place per module: `ErrorDeclarationTests` fails when an error type has none.

extension PolicyError: ClassifiedError {
    public var exitClass: ExitClass { .invalid }
}

extension PolicyValueError: ClassifiedError {
    /// A cron expression or duration that does not parse: the policy (or option) is invalid.
    public var exitClass: ExitClass { .invalid }
}

extension SecretError: ClassifiedError {
    /// A policy secret whose environment variable is unset or whose file cannot be read when the
    /// run resolves it: the policy is valid, this run failed (and is recorded as a failed run,
    /// FailureRecordTests).
    public var exitClass: ExitClass { .failed }
}

extension FileIO.Failure: ClassifiedError {
    /// Reading a file failed; callers wrap it in the error that says what the file was for
    /// (`PolicyError`, `SecretError`), whose class counts.
    var exitClass: ExitClass { .failed }
}
