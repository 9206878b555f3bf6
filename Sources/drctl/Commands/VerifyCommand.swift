import ArgumentParser
import DrctlErrors
import DrctlJobs
import DrctlStorage

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Read every stored byte of backups in every region: digests, authentication, decompression. Restores nothing.")

    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup var log: LogOptions

    @OptionGroup var selection: BackupSelection
    var target: String? { selection.target }
    var backup: String? { selection.backup }

    @Option(name: .long, help: ArgumentHelp("The secret key, instead of the policy's encryption.key_file.", valueName: "FILE"))
    var key: String?

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    struct Line: Encodable {
        let target: String
        let backupID: String
        let region: String
        let ok: Bool
        let problem: String?

        enum CodingKeys: String, CodingKey {
            case target, region, ok, problem
            case backupID = "backup_id"
        }
    }

    func run() async throws {
        try await guarded {
            let logger = log.bootstrap()
            let policy = try policyOptions.load(warningOn: logger)
            if let target { _ = try policy.targets(selecting: target) }
            let keys = try KeyRing(policy: policy.repository.encryption, secretKeyOverride: key)
            let interruption = Interruption()
            Signals.route(to: interruption)
            let runner = JobRunner(JobContext(policy: policy, keys: .success(keys), logger: logger, interruption: interruption,
                                              progress: TerminalProgress.forStandardError()))
            let results = try await runner.run(VerifyJob(target: target, backupID: backup))
            if json {
                try Output.json(results.map {
                    Line(target: $0.target, backupID: $0.backupID, region: $0.region, ok: $0.problem == nil, problem: $0.problem)
                })
            } else {
                for result in results {
                    Output.line("\(result.target) \(result.backupID) \(result.region): "
                        + (result.problem.map { "FAILED: \($0)" } ?? "ok"))
                }
                if results.isEmpty { Output.line("no backups to verify") }
            }
            let failures = results.compactMap(\.error)
            if let first = failures.first {
                ErrorLine.write("\(failures.count) of \(results.count) backup copies failed verification")
                throw ExitClass.ending(first).exitCode
            }
        }
    }
}
