import ArgumentParser
import DrctlJobs
import Foundation

/// The read-ahead worker `wal-fetch` starts in the background (`WalReadAheadJob`); not for
/// people, so not listed.
struct WalReadAheadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal-read-ahead",
        abstract: "Keep wal-fetch's spool filled with the segments after FILE (started by wal-fetch).",
        shouldDisplay: false)

    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup var log: LogOptions
    @OptionGroup var wal: WalTargetOptions

    @Option(name: .long, help: ArgumentHelp("The cluster's system identifier, instead of reading global/pg_control.", valueName: "N"))
    var systemIdentifier: UInt64?

    @Option(name: .long, help: ArgumentHelp("The spool directory.", valueName: "DIR"))
    var spool: String

    @Option(name: .long, help: ArgumentHelp("Segments kept ready.", valueName: "N"))
    var readAhead: Int

    @Argument(help: ArgumentHelp("The segment wal-fetch served.", valueName: "FILE"))
    var file: String

    func run() async throws {
        let logger = log.bootstrap()
        do {
            let policy = try policyOptions.load(warningOn: logger)
            let job = WalReadAheadJob(target: wal.target, after: file, dataDirectory: wal.dataDirectory, systemIdentifier: systemIdentifier,
                                      spool: try WalSpool(trusting: spool, depth: max(1, readAhead)))
            _ = try await JobRunner(JobContext(policy: policy, logger: logger)).run(job)
        } catch {
            // In the spool's worker.log: wal-fetch fetches what is not spooled itself.
            logger.error("WAL read-ahead failed", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
    }
}
