import ArgumentParser
import DrctlErrors

extension ExitClass {
    /// The class an error ends the process with: a command line ArgumentParser refused is
    /// invalid usage; every drctl error declares its own class (`ClassifiedError`); anything
    /// else failed.
    static func ending(_ error: Error) -> ExitClass {
        if error is ValidationError { return .invalid }
        return of(error)
    }

    /// The process's exit code for this class (README, "Exit codes").
    var exitCode: ExitCode { ExitCode(rawValue) }
}

/// Ends a command: prints `drctl: error: …` naming the cause (a JSON line when logs are JSON),
/// exits with its code.
func fail(_ error: Error) -> ExitCode {
    ErrorLine.write("\(error)")
    return ExitClass.ending(error).exitCode
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
