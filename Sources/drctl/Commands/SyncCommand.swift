import ArgumentParser
import DrctlErrors
import DrctlJobs
import DrctlStorage

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Copy what a region lacks from another, checking every object's SHA-256, so that every region holds every backup.",
        discussion: """
            Stored bytes are copied as they are (no key needed). A backup appears in a region only \
            once all its objects are there: its manifest is written last. An interrupted sync is \
            finished by running it again.
            """)

    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup var log: LogOptions

    @OptionGroup var selection: BackupSelection
    var target: String? { selection.target }
    var backup: String? { selection.backup }

    @Option(name: .long, help: ArgumentHelp("Read only from this region (default: the first region in policy order holding a good copy).", valueName: "REGION"))
    var from: String?

    @Option(name: .long, help: ArgumentHelp("Copy only into this region (default: every region lacking a backup).", valueName: "REGION"))
    var to: String?

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    struct Line: Encodable {
        let target: String?
        let backupID: String?
        let region: String
        let outcome: String
        let sources: [String]
        let objectsCopied: Int
        let bytesCopied: UInt64
        let problem: String?

        enum CodingKeys: String, CodingKey {
            case target, region, outcome, sources, problem
            case backupID = "backup_id", objectsCopied = "objects_copied", bytesCopied = "bytes_copied"
        }
    }

    func run() async throws {
        try await guarded {
            let logger = log.bootstrap()
            let policy = try policyOptions.load(warningOn: logger)
            if let target { _ = try policy.targets(selecting: target) }
            if let from, from == to {
                throw ValidationError("--from and --to both name region '\(from)': nothing to copy")
            }
            let interruption = Interruption()
            Signals.route(to: interruption)
            let runner = JobRunner(JobContext(policy: policy, logger: logger, interruption: interruption,
                                              progress: TerminalProgress.forStandardError()))
            let results = try await runner.run(SyncJob(target: target, backupID: backup, from: from, to: to))
            if json {
                try Output.json(results.map {
                    Line(target: $0.target, backupID: $0.backupID, region: $0.region, outcome: $0.outcome.rawValue,
                         sources: $0.sources, objectsCopied: $0.objectsCopied, bytesCopied: $0.bytesCopied,
                         problem: $0.problem)
                })
            } else {
                for result in results {
                    let subject = result.backupID.map { "\(result.target ?? "?") \($0) \(result.region)" }
                        ?? "region \(result.region)"
                    let what: String
                    switch result.outcome {
                    case .complete:
                        what = "already complete"
                    case .copied:
                        let objects = result.objectsCopied == 1 ? "1 object" : "\(result.objectsCopied) objects"
                        what = "copied \(objects) (\(ByteFormat.human(result.bytesCopied)))"
                            + (result.sources.isEmpty ? "" : " from \(result.sources.joined(separator: ","))")
                    case .failed:
                        what = "FAILED: \(result.problem ?? "unknown")"
                    }
                    Output.line("\(subject): \(what)")
                }
                if results.isEmpty { Output.line("no backups to sync") }
            }
            let failures = results.filter { $0.outcome == .failed }
            if !failures.isEmpty {
                ErrorLine.write("\(failures.count) of \(results.count) backup copies could not be synced")
                let integrity = failures.contains { $0.integrity }
                throw (integrity ? ExitClass.integrity : .failed).exitCode
            }
        }
    }
}
