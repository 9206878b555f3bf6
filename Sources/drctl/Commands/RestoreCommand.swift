import ArgumentParser
import DrctlJobs
import DrctlStorage
import Foundation
import Logging
import DrctlPolicy

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup (default: the newest) of a target.",
        discussion: """
            Where --to puts the backup:
              --to FILE   a command or Redis target's backup as one file (Redis: an RDB
                          file, to put in place of a stopped server's dump.rdb)
              --to -      the same bytes to standard output, for a pipe
              --to DIR    a PostgreSQL target's backup as files in DIR (created if
                          missing): the globals and one pg_dump -Fc archive per database
              --to postgres://USER@HOST:PORT
                          a PostgreSQL target into a running server: roles, then each
                          database (password: PGPASSWORD or ~/.pgpass)
            A file is written beside its final name and moved into place only once every
            byte is authenticated; an existing file, or a non-empty database, is never
            replaced without --force.

            A physical PostgreSQL target (mode: physical) restores to a point in time:
              --to PGDATA --point-in-time T|latest, or --lsn LSN
                          the newest base backup that ends at or before the point,
                          extracted into the new data directory PGDATA (and each
                          tablespace's directory, --tablespace-map OLD=NEW moving it),
                          every file checked against the backup's backup_manifest
                          (size and SHA-256) as it is written, and set up to replay WAL from
                          the archive (drctl wal-fetch) to the point, then promote.
                          --start starts it and waits for the promotion.
            """)

    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup var log: LogOptions

    @Option(name: .long, help: "The target whose backup to restore.")
    var target: String

    @Option(name: .long, help: "The backup to restore (default: the newest).")
    var backup: String?

    @Option(name: .long, help: ArgumentHelp(
        "Restore the newest backup whose consistent point is at or before this time, and print the gap.",
        discussion: "RFC 3339, e.g. 2026-11-22T03:00:00Z. Backups are restored whole, not replayed to a moment: the data is that of the backup chosen.",
        valueName: "TIME"))
    var pointInTime: String?

    @Option(name: .long, help: ArgumentHelp("Where to restore to: FILE, - (standard output), DIR or postgres://USER@HOST:PORT (above).", valueName: "DEST"))
    var to: String

    @Option(name: .long, help: ArgumentHelp(
        "postgres:// only: load each database with pg_restore --jobs N from a copy staged in --staging-dir.",
        discussion: "Needs free space for the largest database's archive. Without --jobs the archives stream, unstaged.",
        valueName: "N"))
    var jobs: Int?

    @Option(name: .long, help: ArgumentHelp("Where --jobs stages archives (deleted after loading).", valueName: "DIR"))
    var stagingDir: String?

    @Option(name: .long, help: ArgumentHelp(
        "postgres:// only: create databases whose locale OLD this server lacks with locale NEW instead (repeatable).",
        discussion: "Applies to LOCALE, LC_COLLATE, LC_CTYPE and ICU_LOCALE. Without it a missing locale stops the restore before anything is loaded.",
        valueName: "OLD=NEW"))
    var localeMap: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "postgres:// only: create databases whose tablespace OLD this server lacks in tablespace NEW instead (repeatable; pg_default for the default).",
        valueName: "OLD=NEW"))
    var tablespaceMap: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "Physical targets: recover to this WAL position (X/X) instead of a time.", valueName: "LSN"))
    var lsn: String?

    @Option(name: .long, help: ArgumentHelp(
        "Physical targets: the timeline to recover along (a number, latest or current; default latest).", valueName: "TLI"))
    var timeline: String?

    @Flag(name: .long, help: "Physical targets: start the restored server, wait until it promotes, and print the point it reached.")
    var start = false

    @Option(name: .long, help: ArgumentHelp("Physical targets: the restored server's port (written to its configuration; default: the restored configuration's).", valueName: "PORT"))
    var port: Int?

    @Option(name: .long, help: ArgumentHelp(
        "Physical targets, run as root: the OS user the restored files belong to and the server runs as (default postgres).",
        valueName: "USER"))
    var owner: String?

    @Flag(name: .long, help: "Replace the destination if it exists.")
    var force = false

    @Flag(name: .long, help: ArgumentHelp(
        "File destinations: do not fsync the restored file before reporting success.",
        discussion: "Faster by the time the disk takes to write it; a crash soon after may lose or truncate it. For scratch copies."))
    var noSync = false

    @Option(name: .long, help: "Read from this region only (default: the first healthy region in policy order).")
    var region: String?

    @Option(name: .long, help: ArgumentHelp("The secret key, instead of the policy's encryption.key_file.", valueName: "FILE"))
    var key: String?

    func run() async throws {
        try await guarded {
            let logger = log.bootstrap()
            let policy = try policyOptions.load(warningOn: logger)
            let target = try policy.targets(selecting: self.target)[0]
            if target.mode == .physical {
                return try await restorePhysical(target, policy: policy, logger: logger)
            }
            guard lsn == nil, timeline == nil, !start, port == nil, owner == nil else {
                throw ValidationError("--lsn, --timeline, --start, --port and --owner restore physical targets (mode: physical) only")
            }
            let requested = try PointInTimeOption.parse(pointInTime, backup: backup)
            var parallel: ParallelRestore?
            if let jobs {
                guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
                guard let stagingDir else {
                    throw ValidationError("--jobs needs --staging-dir DIR: pg_restore loads in parallel only from a local file")
                }
                parallel = ParallelRestore(jobs: jobs, stagingDirectory: stagingDir)
            } else if stagingDir != nil {
                throw ValidationError("--staging-dir is only used with --jobs")
            }
            if noSync && RestoreJob.isPostgresServer(to) {
                throw ValidationError("--no-sync applies to file destinations; the server decides when its data is durable")
            }
            let keys = try KeyRing(policy: policy.repository.encryption, secretKeyOverride: key)
            let interruption = Interruption()
            Signals.route(to: interruption)
            var job = RestoreJob(target: target, backupID: backup, pointInTime: requested, destination: to, force: force,
                                 preferredRegion: region, parallel: parallel)
            job.syncFiles = !noSync
            job.databaseMap = try databaseMap()
            let outcome = try await JobRunner(JobContext(policy: policy, keys: .success(keys), logger: logger, interruption: interruption,
                                                         progress: TerminalProgress.forStandardError())).run(job)
            let message = "restored \(outcome.manifest.target) \(outcome.manifest.backupID) "
                + "(\(ByteFormat.human(outcome.manifest.rawSize))) from region \(outcome.region) to \(to)"
            if let requested {
                TerminalLine.write(PointInTimeOption.outcome(requested: requested, manifest: outcome.manifest) + "\n")
            }
            // With --to - standard output carries the data itself.
            if to == "-" { TerminalLine.write(message + "\n") } else { Output.line(message) }
        }
    }

    /// A physical target: a base backup into a new data directory, recovering to the point.
    private func restorePhysical(_ target: TargetPolicy, policy: Policy, logger: Logger) async throws {
        guard to != "-", !RestoreJob.isPostgresServer(to) else {
            throw ValidationError("a physical target restores into a new data directory: --to PGDATA")
        }
        guard pointInTime == nil || lsn == nil else { throw ValidationError("--point-in-time and --lsn exclude each other") }
        guard backup == nil || (pointInTime == nil && lsn == nil) else {
            throw ValidationError("--backup and --point-in-time/--lsn exclude each other")
        }
        guard jobs == nil, stagingDir == nil, localeMap.isEmpty, !noSync else {
            throw ValidationError("--jobs, --staging-dir, --locale-map and --no-sync restore logical targets only")
        }
        let recoveryTarget = try lsn.map(RecoveryTarget.parse(lsn:)) ?? RecoveryTarget.parse(time: pointInTime ?? "latest")
        let options = PhysicalRestoreOptions(
            recoveryTarget: recoveryTarget, timeline: try timeline.map(PhysicalRestoreOptions.parse(timeline:)),
            tablespaceMap: try PhysicalRestoreOptions.parse(tablespaceMap: tablespaceMap), start: start,
            port: port, owner: owner, drctlPath: PhysicalRestoreOptions.currentExecutable(), policyPath: policy.sourcePath)
        if let port, !(1...65_535).contains(port) { throw ValidationError("--port must be 1…65535") }
        let keys = try KeyRing(policy: policy.repository.encryption, secretKeyOverride: key)
        let interruption = Interruption()
        Signals.route(to: interruption)
        var job = RestoreJob(target: target, backupID: backup, destination: to, force: force, preferredRegion: region)
        job.physical = options
        let outcome = try await JobRunner(JobContext(policy: policy, keys: .success(keys), logger: logger, interruption: interruption,
                                                     progress: TerminalProgress.forStandardError())).run(job)
        Output.line("restored base backup \(outcome.manifest.backupID) of \(outcome.manifest.target) "
            + "(\(ByteFormat.human(outcome.manifest.rawSize))) from region \(outcome.region) to \(outcome.destination), every file verified against its backup_manifest")
        guard let recovery = outcome.recovery else { return }
        for line in PhysicalRestoreReport.lines(recovery, manifest: outcome.manifest, dataDirectory: outcome.destination) {
            Output.line(line)
        }
    }

    private func databaseMap() throws -> DatabasePropertyMap {
        guard localeMap.isEmpty && tablespaceMap.isEmpty || RestoreJob.isPostgresServer(to) else {
            throw ValidationError("--locale-map and --tablespace-map apply to postgres:// destinations")
        }
        guard let locales = DatabasePropertyMap.pairs(localeMap) else { throw ValidationError("--locale-map takes OLD=NEW") }
        guard let tablespaces = DatabasePropertyMap.pairs(tablespaceMap) else { throw ValidationError("--tablespace-map takes OLD=NEW") }
        return DatabasePropertyMap(locales: locales, tablespaces: tablespaces)
    }
}
