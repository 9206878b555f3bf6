import DrctlErrors

// Every error type of the drctl command declares its exit class (README, "Exit codes"), here,
// in one place per module: `ErrorDeclarationTests` fails when an error type has none.

extension KeygenCommand.KeyDirectoryError: ClassifiedError {
    /// The key file's directory could not be made.
    var exitClass: ExitClass { .failed }
}

extension KeygenCommand.KeyFileExists: ClassifiedError {
    /// drctl never overwrites a key file: as `CryptoError.keyFileExists`.
    var exitClass: ExitClass { .failed }
}
