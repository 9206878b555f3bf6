import ArgumentParser
import Foundation
import DrctlJobs
import DrctlPolicy
import DrctlStorage

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Judge every target from the repository alone: backup age against the schedule and RPO, drills, regions.",
        discussion: """
            A monitoring plugin (Nagios, Icinga, Sensu, a cron job): the first line is a one-line \
            summary, then details. Reads only, so it can run on another host with read-only \
            credentials. Exit codes (not the usual ones): 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN \
            (the policy or options are invalid, or no target matches).
            """)

    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup var log: LogOptions
    @OptionGroup var clock: ClockOptions

    @Option(name: .long, help: "Only this target (default: every target).")
    var target: String?

    @Option(name: .long, help: ArgumentHelp("How long after its due time a scheduled backup counts as late (default: 30m plus the last backup's duration).", valueName: "DURATION"))
    var grace: String?

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() async throws {
        let logger = log.bootstrap()
        let outcome: Result<CheckJob.Report, Error>
        do {
            let policy = try policyOptions.load(warningOn: logger)
            let job = CheckJob(targets: try policy.targets(selecting: target), now: try clock.date(),
                               grace: try durationOption(grace, "--grace"))
            outcome = .success(try await JobRunner(JobContext(policy: policy, logger: logger)).run(job))
        } catch {
            outcome = .failure(error)
        }
        guard case .success(let report) = outcome else {
            // Nagios: a check that cannot run is UNKNOWN, never OK.
            if case .failure(let error) = outcome {
                Output.line("DRCTL UNKNOWN - \(error)")
                ErrorLine.write("\(error)")
            }
            throw ExitCode(HealthStatus.unknown.rawValue)
        }
        if json {
            try Output.json(report)
        } else {
            Output.line(report.summary)
            Output.line(report.repositoryID.map { "repository \($0) (format version 2; pin it as repository.id)" }
                ?? "repository: no id (format version 1, or not yet written)")
            for health in report.targets {
                Output.line("\(health.target): \(health.status.name)")
                if let backup = health.lastBackup {
                    Output.line("  last backup   \(backup.backupID), consistent point \(Timestamp.format(backup.consistentPoint)) "
                        + "(\(DurationText.short(backup.ageSeconds)) ago), in \(backup.regions.joined(separator: ", "))")
                }
                if let due = health.nextDue {
                    Output.line("  next due      \(Timestamp.format(due)) + grace \(DurationText.short(health.graceSeconds ?? 0))")
                }
                if let rpo = health.rpoSeconds { Output.line("  rpo objective \(DurationText.short(rpo))") }
                if let wal = health.wal, let newest = wal.newestFile {
                    Output.line("  wal archived  \(newest)" + (wal.archivedAt.map { " at \(Timestamp.format($0))" } ?? "")
                        + (wal.ageSeconds.map { " (\(DurationText.short($0)) ago)" } ?? "") + ", in \(wal.regions.joined(separator: ", "))")
                }
                if let drill = health.lastDrill {
                    Output.line("  last drill    \(drill.drillID) \(drill.result) (\(DurationText.short(drill.ageSeconds)) ago)")
                }
                for region in health.regions {
                    Output.line("  region \(region.region): \(region.state), \(region.backups) backup(s)"
                        + (region.newestAgeSeconds.map { ", newest \(DurationText.short($0)) ago" } ?? "")
                        + (region.error.map { ": \($0)" } ?? ""))
                }
                for finding in health.findings { Output.line("  \(finding.status.name): \(finding.message)") }
            }
        }
        if report.status != .ok { throw ExitCode(report.status.rawValue) }
    }
}
