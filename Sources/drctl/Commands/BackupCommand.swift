import ArgumentParser
import DrctlErrors
import DrctlJobs
import DrctlPolicy
import DrctlStorage
import Foundation

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Back up one target, or every target of the policy in turn.")

    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup var log: LogOptions

    @Option(name: .long, help: "The target to back up (default: every target).")
    var target: String?

    @Flag(name: .long, help: "Print the committed backups as JSON.")
    var json = false

    func run() async throws {
        try await guarded {
            let logger = log.bootstrap()
            let policy = try policyOptions.load(warningOn: logger)
            let targets = try policy.targets(selecting: target)
            // Keys that cannot be loaded fail each target's run, recorded, and exit as a key problem.
            let keys = Result { try KeyRing(policy: policy.repository.encryption) }
            let interruption = Interruption()
            Signals.route(to: interruption)
            let runner = JobRunner(JobContext(policy: policy, keys: keys, logger: logger, interruption: interruption,
                                              progress: TerminalProgress.forStandardError()))
            var summaries: [BackupSummary] = []
            var firstError: Error?
            for target in targets {
                let startedAt = Date()
                var committed: BackupManifest?
                var failure: Error?
                do {
                    let manifest = try await runner.run(BackupJob(target: target))
                    committed = manifest
                    summaries.append(BackupSummary(manifest))
                    if !json {
                        Output.line("\(manifest.target) \(manifest.backupID) \(manifest.status.rawValue): "
                            + "\(ByteFormat.human(manifest.rawSize)) read, \(ByteFormat.human(manifest.storedSize)) stored "
                            + "in \(manifest.regions.joined(separator: ", "))")
                    }
                } catch {
                    if case JobError.interrupted = error { throw error }
                    failure = error
                    firstError = firstError ?? error
                    // The job logged its failure; JSON logs need no second line for it, except for
                    // the refusal it leaves to its caller (another run holds the target).
                    if log.logFormat == .text || error is TargetLockedError {
                        ErrorLine.write("backup of '\(target.name)' failed: \(error)", metadata: ["target": "\(target.name)"])
                    }
                }
                await BackupAftermath.report(policy: policy, target: target.name, manifest: committed, error: failure,
                                             startedAt: startedAt, logger: logger)
            }
            if json { try Output.json(summaries) }
            if let firstError { throw ExitClass.ending(firstError).exitCode }
        }
    }
}
