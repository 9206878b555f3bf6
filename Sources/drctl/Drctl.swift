import ArgumentParser
import DrctlCrypto
import DrctlErrors
import DrctlJobs
import DrctlPipeline
import Glibc

@main
struct Drctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drctl",
        abstract: "Backup and disaster recovery for PostgreSQL and Redis: streamed, compressed, encrypted, multi-region.",
        discussion: """
            Exit codes: 0 success · 1 the operation failed · 2 invalid usage or policy · 3 integrity \
            failure (stored data altered, truncated or corrupt) · 4 key problem · 5 no such target or \
            backup · 6 restore destination exists (use --force) · 7 drill objectives missed · 8 target locked by another run · 126 wal-fetch: not fetched, recovery must stop · 130/143 interrupted by SIGINT/SIGTERM.
            """,
        version: "drctl \(DrctlVersion.current)",
        subcommands: [
            KeygenCommand.self, BackupCommand.self, ListCommand.self, VerifyCommand.self,
            RestoreCommand.self, SyncCommand.self, DrillCommand.self, PruneCommand.self, CheckCommand.self,
            AgentCommand.self, ReportCommand.self, PolicyCommand.self, RepositoryCommand.self, VersionCommand.self,
            WalPushCommand.self, WalFetchCommand.self, WalReadAheadCommand.self,
        ])

    /// As ArgumentParser's, except that usage errors exit 2 like every other invalid input
    /// (README, "Exit codes"), not 64.
    static func main() async {
        OpenSSLLifetime.keepUntilExit()
        CoreDumps.forbidUnlessAllowed()
        MallocSettings.apply()
        WalPushPrestart.begin(CommandLine.arguments)
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            // PostgreSQL takes any status up to 125 from its restore_command as "no such file"
            // and may end recovery early: a command line wal-fetch cannot parse stops it instead
            // (its run ends in an ExitCode of its own choosing).
            if CommandLine.arguments.dropFirst().first == WalFetchCommand.configuration.commandName, !(error is ExitCode),
               code != .success {
                TerminalLine.write(fullMessage(for: error) + "\n")
                Glibc.exit(WalFetchCommand.abortRecovery)
            }
            if code == .validationFailure {
                TerminalLine.write(fullMessage(for: error) + "\n")
                Glibc.exit(ExitClass.invalid.rawValue)
            }
            Self.exit(withError: error)
        }
    }
}
