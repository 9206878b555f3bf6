import ArgumentParser
import DrctlErrors
import DrctlPolicy

struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Work with policy files.",
        subcommands: [Validate.self])

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a policy; print every problem as FILE:LINE:COLUMN: KEY: message.")

        @Argument(help: ArgumentHelp("The policy file (default: --policy, $DRCTL_POLICY, /etc/drctl/policy.yaml).", valueName: "FILE"))
        var file: String?

        @OptionGroup var policyOptions: PolicyOptions

        func run() async throws {
            try await guarded {
                let path = file ?? policyOptions.policyPath
                do {
                    let policy = try PolicyLoader.load(path: path)
                    Output.line("\(path): valid (\(policy.targets.count) target(s), \(policy.repository.regions.count) region(s))")
                    for region in policy.repository.unverifiedTLSRegions {
                        TerminalLine.write("drctl: warning: region '\(region.name)': \(RepositoryPolicy.unverifiedTLSWarning)\n")
                    }
                } catch let error as PolicyError {
                    for problem in error.problems { Output.line("\(problem)") }
                    TerminalLine.write("drctl: error: \(path) has \(error.problems.count) problem(s)\n")
                    if let keygen = KeygenHint.command(for: error.problems) {
                        TerminalLine.write("drctl: create the missing key files with: \(keygen)\n")
                    }
                    throw ExitClass.invalid.exitCode
                }
            }
        }
    }
}
