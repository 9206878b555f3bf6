import ArgumentParser
import DrctlErrors
import DrctlJobs
import DrctlPolicy
import DrctlStorage
import Foundation

struct DrillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Restore a backup into a scratch instance, verify it, and measure RTO and RPO against the objectives.",
        discussion: """
            PostgreSQL backups restore into a throwaway cluster (initdb + pg_ctl of the backup's major \
            version on a free loopback port), Redis backups into a throwaway redis-server loading the \
            RDB, command backups into a scratch file. The instance is always torn down; one left by a \
            killed drctl is removed by the next drill. Every drill is recorded in every region. \
            Exit: 0 passed, 1 failed, 7 restored and verified but an objective was missed.
            """)

    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup var log: LogOptions

    @Option(name: .long, help: "Drill this target only (default: every target whose drill is enabled).")
    var target: String?

    @Option(name: .long, help: "The backup to restore (default: the newest).")
    var backup: String?

    @Option(name: .long, help: ArgumentHelp(
        "Restore the newest backup whose consistent point is at or before this time (RFC 3339).", valueName: "TIME"))
    var pointInTime: String?

    @Option(name: .long, help: ArgumentHelp(
        "Where scratch instances live (default: $DRCTL_DRILL_DIR, then <tmp>/drctl-drills).", valueName: "DIR"))
    var scratchDir: String?

    @Option(name: .long, help: ArgumentHelp("The secret key, instead of the policy's encryption.key_file.", valueName: "FILE"))
    var key: String?

    @Flag(name: .long, help: "Print the drill records as JSON.")
    var json = false

    func run() async throws {
        try await guarded {
            let logger = log.bootstrap()
            let policy = try policyOptions.load(warningOn: logger)
            let requested = try PointInTimeOption.parse(pointInTime, backup: backup)
            let targets = try policy.targets(selecting: target).filter { target == nil ? ($0.drill?.enabled ?? true) : true }
            guard backup == nil || targets.count == 1 else { throw ValidationError("--backup needs --target") }
            // Keys that cannot be loaded fail each drill before its restore, recorded, and exit as a key problem.
            let keys = Result { try KeyRing(policy: policy.repository.encryption, secretKeyOverride: key) }
            let interruption = Interruption()
            Signals.route(to: interruption)
            let runner = JobRunner(JobContext(policy: policy, keys: keys, logger: logger, interruption: interruption))
            let scratchRoot = scratchDir.map { ScratchRoot(path: $0) } ?? ScratchRoot()
            var records: [DrillRecord] = []
            for target in targets where interruption.signal == nil {
                let record = await runner.run(DrillJob(target: target, backupID: backup, pointInTime: requested, scratchRoot: scratchRoot))
                records.append(record)
                await DrillAftermath.report(policy: policy, record: record, logger: logger)
                if !json { DrillSummary.print(record) }
            }
            if json { try Output.json(records) }
            // The interrupted drill was torn down and recorded as failed; exit as interrupted.
            if let signal = interruption.signal { throw JobError.interrupted(signal: signal) }
            if case .failure(let error) = keys { throw error }
            if records.contains(where: { $0.result == .failed }) { throw ExitClass.failed.exitCode }
            if records.contains(where: { $0.result == .objectivesMissed }) { throw ExitClass.objectivesMissed.exitCode }
        }
    }
}

/// The human form of a drill record.
enum DrillSummary {
    static func print(_ record: DrillRecord) {
        func seconds(_ value: Double?) -> String { value.map { String(format: "%.2f s", $0) } ?? "-" }
        var line = "\(record.target) drill \(record.drillID) \(record.result.rawValue)"
        if let backup = record.backupID { line += ": backup \(backup) from region \(record.region ?? "-")" }
        line += ", RTO \(seconds(record.rtoSeconds))"
        if let objective = record.objectives.rtoSeconds { line += " (objective \(seconds(objective)))" }
        line += ", RPO \(seconds(record.rpoSeconds))"
        if let objective = record.objectives.rpoSeconds { line += " (objective \(seconds(objective)))" }
        Output.line(line)
        Output.line("  phases: " + record.phases.map { "\($0.name) \(String(format: "%.3f", $0.seconds)) s" }.joined(separator: ", "))
        let passed = record.checks.filter(\.passed).count
        Output.line("  checks: \(passed)/\(record.checks.count) passed")
        for reason in record.reasons { Output.line("  reason: \(reason)") }
    }
}
