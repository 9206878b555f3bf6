import DrctlErrors

// Every error type of DrctlCrypto declares its exit class (README, "Exit codes"), here, in one
// place per module: `ErrorDeclarationTests` fails when an error type has none.

extension CryptoError: ClassifiedError {
    public var exitClass: ExitClass { code.exitClass }
}

extension CryptoError.Code {
    /// Key files and wrong keys are key problems; writing a key file that fails is a failure;
    /// everything about stored bytes (wrapped keys, sealed streams) is integrity.
    public var exitClass: ExitClass {
        switch self {
        case .keyFileMissing, .keyFileUnreadable, .keyFileTooOpen, .secretKeyGivenForPublic, .publicKeyGivenForSecret,
             .wrongKeyKind, .malformedKeyFile, .invalidKeyLength, .invalidPublicKey, .wrongKey:
            return .key
        case .keyFileExists, .keyFileWriteFailed:
            return .failed
        default:
            return .integrity
        }
    }
}

extension AuthenticatedBytes.Failure: ClassifiedError {
    /// A stored document's authentication fields repeated or misshapen: its bytes were altered.
    public var exitClass: ExitClass {
        switch self {
        case .repeated, .malformed: return .integrity
        }
    }
}
