import ArgumentParser
import Foundation
import DrctlPolicy
import DrctlStorage

/// `--now TIME`: the moment a command judges ages against. Hidden, for tests (and for asking
/// "what would prune or check say tomorrow"); default: the system clock.
struct ClockOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Judge ages as if it were TIME (RFC 3339); for testing.", visibility: .hidden))
    var now: String?

    func date() throws -> Date {
        guard let now else { return Date() }
        guard let date = Timestamp.parse(now) else {
            throw ValidationError("--now '\(now)' is not an RFC 3339 time such as 2026-11-22T05:10:08Z")
        }
        return date
    }
}

/// A duration option (`--grace 2h`) in the policy's notation; a usage error names the option.
func durationOption(_ text: String?, _ option: String) throws -> Duration? {
    guard let text else { return nil }
    do {
        return try PolicyDuration.parse(text)
    } catch {
        throw ValidationError("\(option): \(error.message)")
    }
}
