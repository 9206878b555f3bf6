import DrctlCrypto
import DrctlPipeline
import DrctlStorage

/// Whether an error says that stored bytes are damaged (altered, truncated, foreign), as opposed
/// to an unreachable region or a key problem. Restore and verify name it when they fall back to
/// the next region, so a corrupted copy is reported even when another region served the restore.
enum IntegrityFailure {
    static func describes(_ error: Error) -> Bool {
        switch error {
        case is IntegrityError, is ZstdError: return true
        case let error as RepositoryError:
            switch error {
            case .refused, .unauthenticated: return true
            case .unreadable, .newerFormat: return false
            }
        case let error as CryptoError:
            switch error.code {
            case .keyFileMissing, .keyFileUnreadable, .secretKeyGivenForPublic, .publicKeyGivenForSecret,
                 .malformedKeyFile, .invalidKeyLength, .invalidPublicKey, .wrongKey, .keyFileExists, .keyFileWriteFailed:
                return false
            default:
                return true
            }
        case let error as JobError:
            if case .sizeMismatch = error { return true }
            return false
        default: return false
        }
    }
}
