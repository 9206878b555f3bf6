import ArgumentParser
import DrctlJobs
import Foundation

struct WalPushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal-push",
        abstract: "Archive one WAL file to every region (PostgreSQL's archive_command).",
        discussion: """
            archive_command = 'drctl wal-push --policy /etc/drctl/policy.yaml --target NAME %p'. \
            Exits 0 only when min_regions regions hold the file (already holding the same file \
            counts), so PostgreSQL keeps and retries every file drctl did not store. The same name \
            with other contents is refused and recorded (drctl check warns); so is a segment of \
            another cluster than the data directory's. With metrics: textfile:, each success \
            writes drctl_wal_last_archived_timestamp_seconds (drctl_<target>_wal-push.prom).
            """)

    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup var log: LogOptions

    @OptionGroup var wal: WalTargetOptions

    @Option(name: .long, help: ArgumentHelp("zstd level (default \(WalPushJob.defaultCompressionLevel)).", valueName: "N"))
    var compressionLevel: Int32 = WalPushJob.defaultCompressionLevel

    @Flag(name: .long, help: "Accept a cluster the target's archive does not know although it holds another's (after initdb or pg_upgrade).")
    var newSystem = false

    @Argument(help: ArgumentHelp("The WAL file (%p: relative to the data directory).", valueName: "PATH"))
    var path: String

    func run() async throws {
        try await guarded {
            let logger = log.bootstrap()
            // The file is read and compressed while the policy is read (and, started before the
            // command line was parsed, while it was: WalPushPrestart).
            let job = WalPushJob(target: wal.target, path: path, dataDirectory: wal.dataDirectory,
                                 compressionLevel: compressionLevel, newSystem: newSystem).started(from: WalPushPrestart.take())
            if job.openedEarly { logger.debug("WAL file opened and sealed from before the command line was parsed") }
            let policy = try policyOptions.load(warningOn: logger)
            let outcome = try await JobRunner(JobContext(policy: policy, logger: logger)).run(job)
            WalMetrics.publish(target: wal.target, at: Date(), policy: policy.metrics, logger: logger)
            logger.info("WAL file archived", metadata: [
                "target": "\(wal.target)", "file": "\(outcome.file)", "written": "\(outcome.written)",
                "already_held": "\(outcome.alreadyHeld)", "bytes": "\(outcome.size)", "stored_bytes": "\(outcome.storedSize)",
            ])
        }
    }
}
