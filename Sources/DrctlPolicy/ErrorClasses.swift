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
    /// A policy secret whose environment variable is unset or whose file cannot be read: the
    /// configuration this run was given is incomplete, as with missing S3 credentials.
    public var exitClass: ExitClass { .invalid }
}

extension FileIO.Failure: ClassifiedError {
    /// Reading a file the policy names failed (callers wrap it in a `PolicyError` or `SecretError`).
    public var exitClass: ExitClass { .invalid }
}
