import Foundation
import Glibc
import Logging
import DrctlCrypto
import DrctlPipeline
import DrctlPolicy
import DrctlSources
import DrctlStorage

/// Restores one backup of a target to a file (or standard output), reading from the first
/// region that holds it and falling back to the next on any storage or integrity failure. Each
/// region is read with its own copy of the manifest (`ManifestCopy`): a copy altered in one
/// region is that region's failure, named, not the restore's.
public struct RestoreJob: Job {
    public let target: TargetPolicy
    public let backupID: String?
    /// Restore the newest backup whose consistent point is at or before this time.
    public let pointInTime: Date?
    /// A path, or "-" for standard output.
    public let destination: String
    public let force: Bool
    public let preferredRegion: String?
    /// postgres:// only: stage each archive in a local directory, then `pg_restore --jobs`.
    public let parallel: ParallelRestore?
    /// postgres:// only: the locales and tablespaces to use instead of ones the destination
    /// lacks (`--locale-map`, `--tablespace-map`).
    public var databaseMap = DatabasePropertyMap()
    /// Drills: how long each streaming stage was busy.
    public var timing: RestoreTiming?
    /// A restored file is synced before it is reported restored; false (`--no-sync`) leaves
    /// that to the kernel, for a scratch copy that a crash may take.
    public var syncFiles = true
    /// Physical targets: a point-in-time restore into a new data directory (`destination`)
    /// instead of the backup's files (`PhysicalRestore.swift`).
    public var physical: PhysicalRestoreOptions?

    /// `postgres://` or `postgresql://`: a server to load into, not a file.
    public static func isPostgresServer(_ destination: String) -> Bool {
        destination.hasPrefix("postgres://") || destination.hasPrefix("postgresql://")
    }

    public init(target: TargetPolicy, backupID: String?, pointInTime: Date? = nil, destination: String, force: Bool,
                preferredRegion: String?, parallel: ParallelRestore? = nil) {
        self.parallel = parallel
        self.target = target
        self.backupID = backupID
        self.pointInTime = pointInTime
        self.destination = destination
        self.force = force
        self.preferredRegion = preferredRegion
    }

    public struct Outcome: Sendable {
        public let manifest: BackupManifest
        public let region: String
        public let destination: String
        /// Regions tried before `region` and why they failed.
        public let skipped: [String]
        /// Physical targets: what the restore set up and, with `--start`, what the server reached.
        public var recovery: PhysicalRecovery? = nil
    }

    /// Needs the keys (`context.keys`): without them it fails before anything is read.
    public func run(in context: JobContext) async throws -> Outcome {
        try await RestoreRun(job: self, context: context).run()
    }
}

/// One restore run: the job's steps with its context.
struct RestoreRun: ContextBound, Sendable {
    let job: RestoreJob
    let context: JobContext
    var target: TargetPolicy { job.target }
    var destination: String { job.destination }
    var force: Bool { job.force }
    var parallel: ParallelRestore? { job.parallel }
    var databaseMap: DatabasePropertyMap { job.databaseMap }
    var timing: RestoreTiming? { job.timing }
    var syncFiles: Bool { job.syncFiles }
    typealias Outcome = RestoreJob.Outcome

    func run() async throws -> Outcome {
        let keys = try context.keys.get()
        if let physical = job.physical { return try await restorePhysical(physical, keys: keys) }
        let (policy, unlabelled, job) = (self.policy, self.logger, self.job)
        // Finding the backup lists and reads the regions (blocking calls): off the shared threads.
        let located = try await OffPool.run {
            let repository = try Repository(policy: policy.repository, keys: keys)
            let regions = try repository.readOrder(preferring: job.preferredRegion)
            return try BackupLocator(repository: repository, logger: unlabelled)
                .locate(target: job.target.name, id: job.backupID, notAfter: job.pointInTime, regions: regions)
        }
        let manifest = located.manifest
        let sources = try RestoreSource.unwrapping(located.copies, keys: keys, logger: unlabelled)
        if RestoreJob.isPostgresServer(destination) {
            return try await restoreIntoPostgres(manifest, from: sources)
        }
        if parallel != nil {
            throw JobError.invalidDestination(url: destination, reason: "--jobs restores into a PostgreSQL server (postgres://...) only")
        }
        // One object restores to PATH; several (a PostgreSQL backup) into the directory PATH,
        // one file per object.
        let destinations: [(StoredObject, String)]
        if manifest.objects.count == 1 {
            destinations = [(manifest.objects[0], destination)]
        } else {
            guard destination != "-" else { throw JobError.needsDirectory(backup: manifest.backupID, objects: manifest.objects.count) }
            try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true)
            destinations = manifest.objects.map { ($0, "\(destination)/\($0.name)") }
        }
        for (_, path) in destinations where path != "-" && !force && access(path) {
            throw JobError.destinationExists(path)
        }
        var logger = self.logger
        logger[metadataKey: "target"] = "\(target.name)"
        logger[metadataKey: "backup"] = "\(manifest.backupID)"

        var served: [String] = []
        var skipped: [String] = []
        for (object, path) in destinations {
            let (region, failures) = try await restore(object, of: manifest, to: path, from: sources, logger: logger) {
                path == "-" ? StandardOutputSink() as ByteSink : try FileSink(path: path, replace: force, durable: syncFiles)
            }
            served.append(region)
            skipped += failures.map { "\($0)" }
        }
        return Outcome(manifest: manifest, region: Set(served).sorted().joined(separator: ","),
                       destination: destination, skipped: skipped)
    }

    /// One object from the first region that can serve it, read with that region's copy of the
    /// manifest; returns that region and the failures of the regions tried before.
    func restore(_ object: StoredObject, of manifest: BackupManifest, to path: String, from sources: [RestoreSource],
                         logger: Logger,
                         makeSink: () throws -> ByteSink) async throws -> (String, [RegionFailure]) {
        var failures: [RegionFailure] = []
        for source in sources {
            let region = source.copy.region
            let dataKey: DataKey, stored: StoredObject
            do {
                // A damaged copy of the manifest: this region is skipped before any byte goes out.
                dataKey = try source.dataKey.get()
                stored = try source.copy.object(named: object.name)
            } catch {
                failures.append(RegionFailure(region: region.name, error: error))
                continue
            }
            let sink = try makeSink()
            let standardOutput = sink as? StandardOutputSink
            do {
                try await ObjectRestore(manifest: source.copy.manifest, object: stored, dataKey: dataKey, region: region, timing: timing)
                    .run(into: sink, progress: progress, label: "restore \(target.name) \(object.name)",
                         interruption: interruption)
                logger.info("restored", metadata: ["object": "\(object.name)", "region": "\(region.name)", "to": "\(path)"])
                return (region.name, failures)
            } catch let error as RestoreDestinationError {
                throw error
            } catch let error as StagedLoadError {
                throw error
            } catch let error as PhysicalRestoreError {
                throw error   // an archive refused: every region holds the same authenticated bytes
            } catch let error as JobError {
                if case .interrupted = error { throw error }
                if case .destinationExists = error { throw error }
                failures.append(RegionFailure(region: region.name, error: error))
            } catch {
                failures.append(RegionFailure(region: region.name, error: error))
            }
            logger.warning("restore from region failed; trying the next", metadata: [
                "region": "\(region.name)", "error": "\(failures.last!)",
            ])
            // Standard output cannot be rewound: once bytes went out, another region's copy
            // would follow a partial stream.
            if let standardOutput, standardOutput.bytesWritten > 0 { break }
        }
        throw RegionsExhausted(operation: "restore of \(object.name) of backup \(manifest.backupID)", failures: failures)
    }

    /// A PostgreSQL backup into a running server. Before anything is written: which databases
    /// exist (non-empty ones refused without --force) and each database's archive head. Then
    /// the globals (roles, tablespaces); then every database is checked against this server
    /// and made anew with its properties (`DatabaseRecreation`); only then is data loaded.
    private func restoreIntoPostgres(_ manifest: BackupManifest, from sources: [RestoreSource]) async throws -> Outcome {
        guard manifest.kind == "postgres" else {
            throw JobError.invalidDestination(url: destination, reason: "backup \(manifest.backupID) is of kind \(manifest.kind), not postgres")
        }
        let server = try PostgresDestination(url: destination)
        let databases = manifest.objects.filter { $0.database != nil }
        let existing = try await OffPool.run { [force] in try server.existing(databases.compactMap(\.database), force: force) }
        var logger = self.logger
        logger[metadataKey: "target"] = "\(target.name)"
        logger[metadataKey: "backup"] = "\(manifest.backupID)"
        let recreation = DatabaseRecreation(server: server, map: databaseMap, force: force)
        var plans: [String: DatabaseRecreation.Plan] = [:]
        for object in databases {
            let database = object.database!
            let head = try await readHead(object, of: manifest, from: sources, logger: logger)
            plans[database] = try recreation.plan(database, head: head, exists: existing.contains(database))
        }

        var served: [String] = []
        var skipped: [String] = []
        func load(_ object: StoredObject) async throws {
            let place = object.database.map { "\(server.display)/\($0)" } ?? server.display
            // The globals carry the source's password for every role, the one this restore
            // logs in as included: keep that one, or the next archive could not log in.
            let keeper = object.database == nil ? try server.loginPasswordKeeper() : nil
            let staged = object.database != nil ? try parallel?.stagingPath(for: object, of: manifest) : nil
            defer { if let staged { unlink(staged) } }
            var attempts = 0
            var stagedArchive: StagedArchive?
            let (region, failures) = try await restore(object, of: manifest, to: staged ?? place, from: sources,
                                                       logger: logger) {
                attempts += 1
                guard let database = object.database, let plan = plans[database] else { return try server.globalsSink() }
                // An attempt that failed part way left some of the archive loaded: the next
                // region's copy goes into the database made anew.
                if attempts > 1 {
                    logger.info("recreating the partially restored database for the next region", metadata: ["database": "\(database)"])
                    try recreation.recreate(plan)
                }
                if let staged, let parallel {
                    let archive = try StagedArchive(at: staged, into: server, database: database, jobs: parallel.jobs, logger: logger)
                    stagedArchive = archive
                    return archive
                }
                return try server.archiveSink(database: database)
            }
            try stagedArchive?.complete()
            if let keeper, try keeper.restore() {
                logger.info("kept the password of the role this restore logs in as", metadata: ["role": "\(keeper.role)"])
            }
            served.append(region)
            skipped += failures.map { "\($0)" }
        }

        for object in manifest.objects where object.database == nil {
            try await load(object)
        }
        let ordered = databases.compactMap { $0.database.flatMap { plans[$0] } }
        try await OffPool.run { try recreation.check(ordered) }
        for plan in ordered {
            try await OffPool.run { try recreation.create(plan) }
            logger.info("created the database with its properties", metadata: [
                "database": "\(plan.database)", "properties": "\(plan.definition.summary)",
            ])
        }
        for object in databases {
            try await load(object)
        }
        return Outcome(manifest: manifest, region: Set(served).sorted().joined(separator: ","),
                       destination: server.display, skipped: skipped)
    }

    /// The head (header and table of contents) of a database's archive, from the first region
    /// that can serve it: what the destination is checked against before anything is loaded.
    private func readHead(_ object: StoredObject, of manifest: BackupManifest, from sources: [RestoreSource],
                          logger: Logger) async throws -> ArchiveHead {
        var failures: [RegionFailure] = []
        for source in sources {
            let region = source.copy.region
            let head = ArchiveHead()
            do {
                try await ObjectRestore(manifest: source.copy.manifest, object: try source.copy.object(named: object.name),
                                        dataKey: try source.dataKey.get(), region: region)
                    .run(into: head, progress: nil, label: "", interruption: interruption)
            } catch is ArchiveHead.Complete {
                return head
            } catch let error as JobError {
                if case .interrupted = error { throw error }
                failures.append(RegionFailure(region: region.name, error: error))
            } catch {
                failures.append(RegionFailure(region: region.name, error: error))
            }
            logger.warning("reading the archive's table of contents failed; trying the next region", metadata: [
                "object": "\(object.name)", "region": "\(region.name)", "error": "\(failures.last!)",
            ])
        }
        throw RegionsExhausted(operation: "reading the table of contents of \(object.name) of backup \(manifest.backupID)",
                               failures: failures)
    }

    private func access(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }
}

/// One region's failure within a multi-region operation.
public struct RegionFailure: Error, CustomStringConvertible {
    public let region: String
    public let error: Error

    public var description: String {
        "region '\(region)': " + (IntegrityFailure.describes(error) ? "integrity failure: " : "") + "\(error)"
    }
}

/// Every region was tried and each failed.
public struct RegionsExhausted: Error, CustomStringConvertible {
    public let operation: String
    public let failures: [Error]

    public var description: String {
        "\(operation) failed in every region: " + failures.map { "\($0)" }.joined(separator: "; ")
    }
}
