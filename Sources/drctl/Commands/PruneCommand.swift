import ArgumentParser
import DrctlErrors
import DrctlJobs
import DrctlPolicy
import DrctlStorage

struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove the backups no retention rule keeps, and what failed or interrupted backups left behind.",
        discussion: """
            Prints every backup kept with the rules keeping it, and what goes. Manifests are \
            removed first in every region, then the data: a crash half way leaves only objects no \
            command lists, which the next prune removes. Leftovers (objects without a manifest, \
            temporary files, unfinished S3 uploads) go once older than the grace period. The \
            target's lock is held throughout, so no backup of it runs meanwhile.
            """)

    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup var log: LogOptions
    @OptionGroup var clock: ClockOptions

    @Option(name: .long, help: "Only this target (default: every target).")
    var target: String?

    @Flag(name: .long, help: "Print what would be removed; remove nothing.")
    var dryRun = false

    @Option(name: .long, help: ArgumentHelp("Remove leftovers only once older than this (default: the policy's retention.leftover_grace, else 24h).", valueName: "DURATION"))
    var leftoverGrace: String?

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() async throws {
        try await guarded {
            let logger = log.bootstrap()
            let policy = try policyOptions.load(warningOn: logger)
            let targets = try policy.targets(selecting: target)
            let now = try clock.date()
            let grace = try durationOption(leftoverGrace, "--leftover-grace")
            let interruption = Interruption()
            Signals.route(to: interruption)
            let runner = JobRunner(JobContext(policy: policy, logger: logger, interruption: interruption))
            var reports: [PruneReport] = []
            for target in targets {
                let report = try await runner.run(PruneJob(target: target, dryRun: dryRun, leftoverGrace: grace, now: now))
                reports.append(report)
                if !json { print(report) }
                if report.interruptedBy != nil { break }
            }
            if json { try Output.json(reports) }
            if let signal = interruption.signal { throw JobError.interrupted(signal: signal) }
            if reports.contains(where: { $0.lockedBy != nil }) { throw ExitClass.locked.exitCode }
            if reports.contains(where: { !$0.errors.isEmpty }) { throw ExitClass.failed.exitCode }
        }
    }

    private func print(_ report: PruneReport) {
        let would = report.dryRun ? "would remove" : "removed"
        if let holder = report.lockedBy {
            Output.line("\(report.target): skipped, locked by \(holder)")
            for error in report.errors { ErrorLine.write("\(error)") }
            return
        }
        Output.line("\(report.target): \(report.kept.count) kept, \(report.removed.count) \(would), "
            + "\(report.leftovers.count) leftover(s) \(would)" + (report.dryRun ? " (dry run)" : ""))
        if !report.hasRetention { Output.line("  no retention in the policy: every backup is kept") }
        for kept in report.kept {
            let reasons = kept.reasons.map(\.description).joined(separator: ", ")
            Output.line("  keep    \(kept.backupID)" + (reasons.isEmpty ? "" : "  \(reasons)"))
        }
        for removed in report.removed {
            Output.line("  remove  \(removed.backupID)  from \(removed.regions.joined(separator: ", "))")
        }
        for leftover in report.leftovers {
            Output.line("  remove  \(leftover.region): \(leftover.key)  (\(leftover.kind.rawValue), \(DurationText.short(leftover.ageSeconds)) old)")
        }
        for removed in report.wal {
            Output.line("  remove  \(removed.region): WAL \(removed.range.first) … \(removed.range.last) (\(removed.range.files) file(s), "
                + "system \(removed.range.systemIdentifier)): \(removed.range.reason)")
        }
        for error in report.errors { ErrorLine.write("\(report.target): \(error)", metadata: ["target": "\(report.target)"]) }
    }
}
