import ArgumentParser
import DrctlJobs
import DrctlStorage

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the backups the regions hold (read from the regions, not from local state).")

    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup var log: LogOptions

    @Option(name: .long, help: "Only this target's backups.")
    var target: String?

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() async throws {
        try await guarded {
            let logger = log.bootstrap()
            let policy = try policyOptions.load(warningOn: logger)
            if let target { _ = try policy.targets(selecting: target) }
            let listing = try await JobRunner(JobContext(policy: policy, logger: logger)).run(ListJob(target: target))
            // Status as the regions hold the backup now (a sync may have completed a degraded one).
            let summaries = listing.entries.map { entry in
                var summary = BackupSummary(entry.manifest, regions: entry.regions)
                summary.status = entry.regions.count >= policy.repository.regions.count ? "complete" : "degraded"
                return summary
            }
            if json {
                try Output.json(summaries)
                return
            }
            if summaries.isEmpty {
                Output.line("no backups" + (target.map { " of \($0)" } ?? ""))
                return
            }
            Output.table(
                ["TARGET", "BACKUP", "FINISHED (UTC)", "RAW", "STORED", "STATUS", "REGIONS", "AUTHENTICATION"],
                summaries.map { summary in
                    [summary.target, summary.backupID, Timestamp.format(summary.finishedAt),
                     ByteFormat.human(summary.rawSize), ByteFormat.human(summary.storedSize),
                     summary.status, summary.regions.joined(separator: ","), summary.authentication]
                })
        }
    }
}
