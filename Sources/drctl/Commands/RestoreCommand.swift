import ArgumentParser
import DrctlJobs
import DrctlStorage
import Foundation

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

    private func databaseMap() throws -> DatabasePropertyMap {
        guard localeMap.isEmpty && tablespaceMap.isEmpty || RestoreJob.isPostgresServer(to) else {
            throw ValidationError("--locale-map and --tablespace-map apply to postgres:// destinations")
        }
        guard let locales = DatabasePropertyMap.pairs(localeMap) else { throw ValidationError("--locale-map takes OLD=NEW") }
        guard let tablespaces = DatabasePropertyMap.pairs(tablespaceMap) else { throw ValidationError("--tablespace-map takes OLD=NEW") }
        return DatabasePropertyMap(locales: locales, tablespaces: tablespaces)
    }
}
