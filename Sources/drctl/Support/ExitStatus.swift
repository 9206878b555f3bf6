import ArgumentParser
import Foundation
import DrctlCrypto
import DrctlJobs
import DrctlPipeline
import DrctlPolicy
import DrctlStorage

/// drctl's documented exit codes (README, "Exit codes").
enum ExitStatus: Int32 {
    case success = 0
    case failed = 1
    case invalid = 2
    case integrity = 3
    case key = 4
    case notFound = 5
    case destinationExists = 6
    /// `drctl drill`: restored and verified, but RTO or RPO over its objective.
    case objectivesMissed = 7
    case locked = 8
    case interruptedINT = 130
    case interruptedTERM = 143

    /// The code an error ends the process with.
    static func of(_ error: Error) -> ExitStatus {
        switch error {
        case is PolicyError, is ValidationError: return .invalid
        case is IntegrityError: return .integrity
        case is TargetLockedError: return .locked
        case let error as CryptoError: return of(error.code)
        case let error as RegionFailure: return of(error.error)
        case let error as UnreadableManifest: return of(error.error)
        case let error as RegionsExhausted:
            // Every region failed the same way (e.g. all corrupt): report that way.
            let codes = Set(error.failures.map { of($0) })
            return codes.count == 1 ? codes.first! : .failed
        case let error as JobError:
            switch error {
            case .noKey, .secretKeyNeeded, .keyMismatch, .signingKeyNeeded, .unlistedWriter: return .key
            case .wrapSchemeNotPinned: return .integrity
            case .noCredentials: return .invalid
            case .unknownTarget, .unknownRegion, .noBackups, .backupNotFound, .noBackupBefore: return .notFound
            case .invalidBackupID, .needsDirectory, .invalidDestination: return .invalid
            case .destinationExists: return .destinationExists
            case .sizeMismatch: return .integrity
            case .interrupted(let signal): return signal == "SIGINT" ? .interruptedINT : .interruptedTERM
            case .unsupportedKind: return .failed
            }
        case let error as RepositoryError:
            switch error {
            case .unreadable, .refused, .unauthenticated: return .integrity
            case .newerFormat: return .failed
            }
        case is ZstdError: return .integrity
        case let error as IdentityError:
            if case .pinnedButVersionOne = error { return .invalid }
            return .integrity
        case let error as AgentError:
            if case .listenFailed = error { return .failed }
            return .invalid
        default: return .failed
        }
    }
}

extension ExitStatus {
    /// Key files and wrong keys are key problems; everything about stored bytes is integrity.
    static func of(_ code: CryptoError.Code) -> ExitStatus {
        switch code {
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

/// Ends a command: prints `drctl: error: …` naming the cause (a JSON line when logs are JSON),
/// exits with its code.
func fail(_ error: Error) -> ExitCode {
    let status = ExitStatus.of(error)
    ErrorLine.write("\(error)")
    return ExitCode(status.rawValue)
}

/// Runs a command body, turning any error into its message and exit code.
func guarded(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let exit as ExitCode {
        throw exit
    } catch let error as CleanExit {
        throw error
    } catch {
        throw fail(error)
    }
}
