import Foundation
import Glibc
import Logging
import DrctlCrypto
import DrctlPipeline
import DrctlPolicy
import DrctlSources
import DrctlStorage

/// What a point-in-time restore of a physical target is asked for (`drctl restore
/// --point-in-time T | --lsn L --to PGDATA`).
public struct PhysicalRestoreOptions: Sendable {
    public var recoveryTarget: RecoveryTarget
    /// `--timeline`: a number, `latest` or `current` (nil: PostgreSQL's default, `latest`).
    public var timeline: String?
    /// `--tablespace-map OLD=NEW`: a tablespace's location on the source → where to restore it.
    public var tablespaceMap: [String: String]
    /// `--start`: start the server, wait for its promotion, say what it reached.
    public var start: Bool
    /// `--port`: the restored server's port (written to its configuration).
    public var port: Int?
    /// `--owner`: the OS user the server runs as when drctl runs as root (default postgres).
    public var owner: String?
    /// The drctl binary and the policy file `restore_command` runs, absolute: the restored
    /// server runs it from its data directory, where an operator's relative `--policy` names
    /// nothing.
    public var drctlPath: String
    public var policyPath: String
    /// How long `--start` (and a drill) waits for the promotion.
    public static let defaultPromotionTimeout: Duration = .seconds(3600)
    public var promotionTimeout = defaultPromotionTimeout
    /// false: the restored server does not archive (`archive_mode = off`): a drill's scratch
    /// copy must never push its new timeline into the target's archive.
    public var archiving = true
    /// true: `pg_verifybackup` also checks the restored files (drills: the issue requires
    /// PostgreSQL's own check there). Every restore checks them against `backup_manifest` as it
    /// extracts them (`BackupManifestCheck`); the program reads every byte a second time.
    public var runsVerifyBackup = false

    public init(recoveryTarget: RecoveryTarget, timeline: String? = nil, tablespaceMap: [String: String] = [:], start: Bool = false,
                port: Int? = nil, owner: String? = nil, drctlPath: String, policyPath: String) {
        self.recoveryTarget = recoveryTarget
        self.timeline = timeline
        self.tablespaceMap = tablespaceMap
        self.start = start
        self.port = port
        self.owner = owner
        self.drctlPath = drctlPath
        self.policyPath = PathText.absolute(policyPath)
    }

    /// `--timeline`: a positive number, `latest` or `current`.
    public static func parse(timeline text: String) throws -> String {
        guard ["latest", "current"].contains(text) || (UInt32(text).map { $0 > 0 } ?? false) else {
            throw PhysicalRestoreError.badTimeline(text)
        }
        return text
    }

    /// `--tablespace-map OLD=NEW` pairs, both absolute directories.
    public static func parse(tablespaceMap pairs: [String]) throws -> [String: String] {
        var map: [String: String] = [:]
        for pair in pairs {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, parts.allSatisfy({ $0.hasPrefix("/") }) else { throw PhysicalRestoreError.badTablespaceMap(pair) }
            map[Self.normalized(parts[0])] = Self.normalized(parts[1])
        }
        return map
    }

    /// This binary's absolute path, for the restored server's `restore_command`.
    public static func currentExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }

    static func normalized(_ path: String) -> String {
        path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }
}

/// What a physical restore did: the base backup, the recovery target, the server's time zone
/// and, with `--start`, the point the server reached.
public struct PhysicalRecovery: Sendable {
    public let target: RecoveryTarget
    /// The restored configuration's `timezone` (nil: not set, the server's default).
    public let serverTimeZone: TimeZone?
    public let reachedCommitTime: Date?
    public let reachedLSN: String?
    public let reachedTimeline: Int?
    public let started: Bool
    /// Where the started server listens: "socket directory DIR, port N".
    public let listening: String?
    /// Regions whose WAL archive could not be listed when the point in time was checked against
    /// the archive's end ("region r2 could not be listed (why)"): they may hold later WAL.
    public let unlistedRegions: [String]
}

extension RestoreRun {
    /// A base backup into a new data directory, set up to recover to `options.recoveryTarget`
    /// through the WAL archive. Everything that can be refused is refused before a byte is
    /// written: the target's mode, a point before the oldest backup's end, a non-empty
    /// directory. The archives are extracted in-process (`TarExtractor`) and every file checked
    /// against `backup_manifest` (`BackupManifestCheck`; drills also run `pg_verifybackup`)
    /// before the recovery settings are written.
    func restorePhysical(_ options: PhysicalRestoreOptions, keys: KeyRing) async throws -> RestoreJob.Outcome {
        guard target.mode == .physical else { throw PhysicalRestoreError.notPhysical(target: target.name) }
        let (policy, unlabelled, job) = (self.policy, self.logger, self.job)
        let (located, unlisted) = try await OffPool.run {
            let repository = try Repository(policy: policy.repository, keys: keys)
            let regions = try repository.readOrder(preferring: job.preferredRegion)
            let catalog = try BackupLocator(repository: repository, logger: unlabelled).catalog(target: job.target.name, regions: regions)
            let located = try job.backupID.map { try catalog.backup($0) } ?? Self.choose(options.recoveryTarget, in: catalog)
            guard case .time(let time) = options.recoveryTarget, let physical = located.manifest.physical else { return (located, [ArchiveEnd.Unlisted]()) }
            guard let cluster = physical.cluster else {
                throw PhysicalRestoreError.cannotPrepare(path: "manifest \(located.manifest.backupID)",
                                                         reason: "its system_identifier '\(physical.systemIdentifier)' is not a decimal number")
            }
            let end = ArchiveEnd(of: WalArchive(repository: repository, target: job.target.name, systemIdentifier: cluster))
            if let newest = end.newestPush, time > newest {
                throw PhysicalRestoreError.pastArchivedWAL(requested: time, newest: newest, unlisted: end.unlisted.map(\.description))
            }
            return (located, end.unlisted)
        }
        for region in unlisted {
            unlabelled.warning("a region's WAL archive could not be listed: the point in time was checked against the other regions' WAL only",
                               metadata: ["target": "\(target.name)", "region": "\(region.region)", "error": "\(region.reason)"])
        }
        let manifest = located.manifest
        guard manifest.kind == PhysicalBackupInfo.kind, let physical = manifest.physical else {
            throw PhysicalRestoreError.notPhysical(target: target.name)
        }
        let sources = try RestoreSource.unwrapping(located.copies, keys: keys, logger: unlabelled)
        let major = RestoredServer.major(of: manifest)
        let owner = getuid() == 0 ? (options.owner ?? "postgres") : nil
        let dataPath = PhysicalRestoreOptions.normalized(URL(fileURLWithPath: destination).standardizedFileURL.path)
        let directories = DataDirectory(path: dataPath, tablespaces: Dictionary(uniqueKeysWithValues: physical.tablespaces.map {
            ($0.oid, options.tablespaceMap[PhysicalRestoreOptions.normalized($0.location)] ?? $0.location)
        }), owner: owner)
        for program in (options.runsVerifyBackup ? ["pg_verifybackup"] : []) + (options.start ? ["pg_ctl", "psql"] : []) {
            _ = try RestoredServer.program(program, major: major)
        }
        if let owner, getpwnam(owner) == nil {
            throw PhysicalRestoreError.cannotPrepare(path: dataPath, reason: "there is no OS user '\(owner)' to own the restored files "
                + "and run the server (drctl runs as root: name the server's user with --owner)")
        }
        try directories.prepare(force: force)

        var logger = self.logger
        logger[metadataKey: "target"] = "\(target.name)"
        logger[metadataKey: "backup"] = "\(manifest.backupID)"
        var served: [String] = []
        var skipped: [String] = []
        let extracted = RestoredFiles()
        for object in manifest.objects {
            let place: String
            var manifestPrefix = ""
            if object.name == "base.tar" {
                place = dataPath
            } else if let space = physical.tablespaces.first(where: { $0.object == object.name }) {
                place = directories.tablespaces[space.oid]!
                manifestPrefix = "pg_tblspc/\(space.oid)/"
            } else {
                place = "\(dataPath)/\(object.name)"   // backup_manifest, beside the files it describes
            }
            let isArchive = object.name.hasSuffix(".tar")
            let (region, failures) = try await restore(object, of: manifest, to: place, from: sources, logger: logger) {
                isArchive ? TarExtractor(root: place, archive: object.name, manifestPrefix: manifestPrefix, into: extracted) as ByteSink
                    : try FileSink(path: place, replace: true, durable: syncFiles)
            }
            served.append(region)
            skipped += failures.map { "\($0)" }
        }
        // The port is read once the files are there: without --port, the restored
        // configuration's (PostgreSQL's default when it sets none).
        let server = RestoredServer(dataDirectory: dataPath, major: major,
                                    port: options.port ?? RecoverySettings.setting("port", in: dataPath).flatMap { Int($0) } ?? 5432,
                                    owner: owner)
        let runsVerifyBackup = options.runsVerifyBackup
        try await OffPool.run {
            let check = try BackupManifestCheck(manifest: Self.readManifest(in: dataPath))
            try check.verify(extracted)
            try directories.finish()
            // Checksums of another algorithm than the SHA-256 the extraction computed: the program checks them.
            if runsVerifyBackup || !check.checksumsComputed { try server.verify() }
            // The links are made: the map (which names the source's directories) has done its part.
            unlink("\(dataPath)/tablespace_map")
        }
        logger.info("base backup restored and verified", metadata: ["to": "\(dataPath)"])
        var settings = RecoverySettings(drctl: options.drctlPath, policyPath: options.policyPath, target: target.name,
                                        spool: RecoverySettings.spoolDirectory(besides: dataPath),
                                        recoveryTarget: options.recoveryTarget, timeline: options.timeline, port: options.port,
                                        archiving: options.archiving,
                                        note: "drctl restore: recovery of base backup \(manifest.backupID) through the WAL archive")
        let written = settings.prepareSpool(logger: logger) + (try settings.write(into: dataPath))
        if let owner { try DataDirectory.give(written, to: owner) }
        let zone = RecoverySettings.setting("timezone", in: dataPath).flatMap(TimeZone.init(identifier:))
        var reached: RestoredServer.Reached?
        if options.start {
            // No sync of ours: the server's start-up syncs every file first (a base backup's
            // pg_control says it was not shut down cleanly: StartupXLOG → SyncDataDirectory),
            // the same files would be written to disk twice.
            reached = try await server.startAndAwaitPromotion(timeout: options.promotionTimeout, interruption: interruption)
        } else if syncFiles {
            // The files were written through the page cache: on disk before the restore says it is done.
            try await OffPool.run { try directories.sync() }
            logger.debug("restored files synced to disk", metadata: ["to": "\(dataPath)"])
        }
        var outcome = RestoreJob.Outcome(manifest: manifest, region: Set(served).sorted().joined(separator: ","),
                                         destination: dataPath, skipped: skipped)
        outcome.recovery = PhysicalRecovery(target: options.recoveryTarget, serverTimeZone: zone, reachedCommitTime: reached?.commitTime,
                                            reachedLSN: reached?.lsn, reachedTimeline: reached?.timeline, started: options.start,
                                            listening: options.start ? "socket directory \(server.socketDirectory), port \(server.port)" : nil,
                                            unlistedRegions: unlisted.map(\.description))
        return outcome
    }

    /// The restored `backup_manifest` (the last object: PostgreSQL sends it after the archives).
    static func readManifest(in dataPath: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: "\(dataPath)/backup_manifest") else {
            throw PhysicalRestoreError.verifyFailed("the base backup has no readable backup_manifest to check its files against")
        }
        return [UInt8](data)
    }

    /// The base backup to start from: the newest whose end (consistent point) is at or before
    /// the target; for `latest`, the newest.
    static func choose(_ recoveryTarget: RecoveryTarget, in catalog: BackupLocator.Catalog) throws -> BackupLocator.Located {
        let physical = catalog.backups.values.filter { $0.manifest.kind == PhysicalBackupInfo.kind && $0.manifest.physical != nil }
        func ordered(_ candidates: [BackupLocator.Located]) -> BackupLocator.Located? {
            candidates.max { ($0.manifest.consistentPoint.time, $0.manifest.backupID) < ($1.manifest.consistentPoint.time, $1.manifest.backupID) }
        }
        let oldest = physical.map(\.manifest.consistentPoint.time).min().map(PostgresTimeText.utc)
        switch recoveryTarget {
        case .latest:
            guard let newest = ordered(physical) else { throw JobError.noBackups(target: catalog.target) }
            return newest
        case .time(let time):
            guard let best = ordered(physical.filter { $0.manifest.consistentPoint.time <= time }) else {
                throw PhysicalRestoreError.beforeOldestBackup(target: catalog.target, requested: PostgresTimeText.utc(time), oldest: oldest)
            }
            return best
        case .lsn(let text):
            let wanted = LSN(text) ?? LSN(0)
            guard let best = ordered(physical.filter { ($0.manifest.consistentPoint.lsn.flatMap(LSN.init) ?? LSN(.max)) <= wanted }) else {
                let oldestLSN = physical.min { $0.manifest.consistentPoint.time < $1.manifest.consistentPoint.time }?.manifest.consistentPoint.lsn
                throw PhysicalRestoreError.beforeOldestBackup(target: catalog.target, requested: "LSN \(text)", oldest: oldestLSN.map { "LSN \($0)" })
            }
            return best
        }
    }
}
