import ArgumentParser
import DrctlJobs
import DrctlStorage

struct RepositoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repository",
        abstract: "Administer the repository itself.",
        subcommands: [UpgradeCommand.self])

    struct UpgradeCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "upgrade",
            abstract: "Make a version 1 repository version 2 (authenticated manifests, records and locks).",
            discussion: """
                Replaces repository.json in every region with a version 2 marker holding one repository \
                id (the policy's repository.id if it pins one). Backups made before stay readable and are \
                shown as unauthenticated; everything written afterwards is signed, and readers then refuse \
                any version 1 document dated after the upgrade. Every region must be readable. Run it while \
                no backup runs; running it again finishes a partial upgrade and changes nothing else.
                """)

        @OptionGroup var policyOptions: PolicyOptions
        @OptionGroup var log: LogOptions

        func run() async throws {
            try await guarded {
                let logger = log.bootstrap()
                let policy = try policyOptions.load(warningOn: logger)
                let outcome = try RepositoryUpgrade(repository: try Repository(policy: policy.repository),
                                                    toolVersion: DrctlVersion.current).run()
                for region in outcome.upgraded { Output.line("region \(region): upgraded to version 2") }
                for region in outcome.alreadyVersionTwo { Output.line("region \(region): already version 2") }
                Output.line("repository \(outcome.repositoryID); pin it in the policy: repository.id: \"\(outcome.repositoryID)\"")
            }
        }
    }
}
