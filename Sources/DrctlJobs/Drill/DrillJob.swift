import Foundation
import Logging
import DrctlPolicy
import DrctlSources
import DrctlStorage

/// One restore drill of one target: choose a backup, restore it into a scratch instance that
/// drctl starts (PostgreSQL: initdb + pg_ctl; Redis: redis-server on the restored RDB; command
/// targets: a scratch file), verify the data against the manifest and the policy's checks,
/// measure RTO, RPO and every phase, tear the instance down, and write the drill record to
/// every region. A drill never throws: whatever went wrong is the record's `reasons`.
public struct DrillJob: InfallibleJob {
    public let target: TargetPolicy
    public let backupID: String?
    public let pointInTime: Date?
    public let scratchRoot: ScratchRoot

    public init(target: TargetPolicy, backupID: String? = nil, pointInTime: Date? = nil, scratchRoot: ScratchRoot = ScratchRoot()) {
        self.target = target
        self.backupID = backupID
        self.pointInTime = pointInTime
        self.scratchRoot = scratchRoot
    }

    /// Never throws: a drill always yields its record (keys that could not be loaded, no
    /// backup to restore, an interruption: the record's `reasons`); its caller reads `result`.
    public func run(in context: JobContext) async -> DrillRecord {
        await DrillRun(job: self, context: context).run()
    }
}

/// One drill run: the job's steps with its context.
private struct DrillRun: ContextBound, Sendable {
    let job: DrillJob
    let context: JobContext
    var target: TargetPolicy { job.target }
    var backupID: String? { job.backupID }
    var pointInTime: Date? { job.pointInTime }
    var scratchRoot: ScratchRoot { job.scratchRoot }
    /// The keys, or why the caller could not load them: the drill then fails before its
    /// restore, recorded like any other failed drill.
    var keys: Result<KeyRing, Error> { context.keys }

    /// What a drill saw, filled in as it goes.
    private struct Observation {
        var manifest: BackupManifest?
        var region: String?
        var rpoSeconds: Double?
        var rtoSeconds: Double?
        var checks: [DrillCheckResult] = []
        var throughput: Double?
        var restoredBytes: UInt64 = 0
        /// A physical drill: the last commit the recovered server replayed (else the backup's point).
        var recoveryPoint: Date?
        var error: Error?
    }

    func run() async -> DrillRecord {
        let startedAt = Date()
        let drillID = BackupID(startedAt: startedAt).rawValue
        let clock = PhaseClock()
        var logger = self.logger
        logger[metadataKey: "target"] = "\(target.name)"
        logger[metadataKey: "drill"] = "\(drillID)"
        var seen = Observation()
        let repository: Repository?
        do {
            repository = try (try? keys.get()).map { try Repository(policy: policy.repository, keys: $0) }
                ?? Repository(policy: policy.repository)
        } catch {
            repository = nil
            seen.error = error
        }
        if let repository {
            await drill(drillID: drillID, startedAt: startedAt, repository: repository, clock: clock, logger: logger, into: &seen)
        }
        let objectives = DrillObjectives(rpoSeconds: target.objectives?.rpo.map { Double(PolicyDuration.seconds($0)) },
                                         rtoSeconds: target.objectives?.rto.map { Double(PolicyDuration.seconds($0)) })
        let (result, reasons) = DrillAssessment(error: seen.error, checks: seen.checks, rtoSeconds: seen.rtoSeconds,
                                                rpoSeconds: seen.rpoSeconds, objectives: objectives).outcome
        let record = DrillRecord(
            drillID: drillID, target: target.name, kind: target.kind.rawValue, tool: ToolInfo(version: DrctlVersion.current),
            backupID: seen.manifest?.backupID, region: seen.region, startedAt: startedAt, finishedAt: Date(), result: result,
            reasons: reasons, rtoSeconds: seen.rtoSeconds.map { ($0 * 1000).rounded() / 1000 },
            rpoSeconds: seen.rpoSeconds.map { ($0 * 1000).rounded() / 1000 },
            recoveryPoint: seen.recoveryPoint ?? seen.manifest?.consistentPoint.time, restoredBytes: seen.restoredBytes,
            throughputBytesPerSecond: seen.throughput, phases: clock.phases, checks: seen.checks, objectives: objectives)
        if let repository {
            for failure in repository.write(record, signedBy: KeyRing.recordSigningKey(keys, policy: policy.repository.encryption)) {
                logger.warning("drill record not written to a region", metadata: ["region": "\(failure.region)", "error": "\(failure.error)"])
            }
        }
        // A failed drill is an error line (with its reasons), as a failed backup is.
        logger.log(level: result == .failed ? .error : .info, "drill finished", metadata: [
            "result": "\(result.rawValue)", "rto_seconds": "\(record.rtoSeconds ?? -1)",
            "reasons": .array(reasons.map { .string($0) }),
        ])
        return record
    }

    private func drill(drillID: String, startedAt: Date, repository: Repository, clock: PhaseClock, logger: Logger,
                       into seen: inout Observation) async {
        let root = scratchRoot
        _ = try? await OffPool.run { root.sweep(logger: logger) }
        // Select: the backup to restore, and the newest one (whose age is the RPO).
        let selected: (chosen: BackupManifest, regions: [Region], newest: BackupManifest)
        do {
            selected = try await clock.time("select") {
                try await OffPool.run { [self] in
                    // One listing of the regions serves every question.
                    let catalog = try BackupLocator(repository: repository, logger: logger)
                        .catalog(target: target.name, regions: repository.regions)
                    let newest = try catalog.newest()
                    let chosen: BackupLocator.Located
                    if let backupID {
                        chosen = try catalog.backup(backupID)
                    } else if let pointInTime {
                        chosen = try catalog.newest(notAfter: pointInTime)
                    } else if let pick = randomPick(from: catalog.manifests, startedAt: startedAt) {
                        chosen = try catalog.backup(pick)
                    } else {
                        chosen = newest
                    }
                    return (chosen.manifest, chosen.regions, newest.manifest)
                }
            }
        } catch {
            seen.error = error
            return
        }
        let manifest = selected.chosen
        seen.manifest = manifest
        seen.region = selected.regions.first?.name
        seen.rpoSeconds = max(0, startedAt.timeIntervalSince(selected.newest.consistentPoint.time))
        let physical = target.mode == .physical && manifest.kind == PhysicalBackupInfo.kind
        guard manifest.kind == target.kind.rawValue || physical else {
            seen.error = DrillError.unsupported("backup \(manifest.backupID) is of kind \(manifest.kind) but target '\(target.name)' is of kind \(target.kind.rawValue)")
            return
        }
        let keys: KeyRing
        do {
            keys = try self.keys.get()
        } catch {
            seen.error = error
            return
        }
        let scratch: ScratchDirectory
        do {
            scratch = try root.create(drillID)
        } catch {
            seen.error = error
            return
        }
        var instance: ScratchInstance?
        do {
            instance = try await restoreAndVerify(manifest, keys: keys, scratch: scratch, clock: clock, logger: logger, into: &seen)
        } catch {
            seen.error = error
        }
        if seen.error == nil && seen.checks.allSatisfy(\.passed) {
            seen.rtoSeconds = clock.elapsed
        }
        let running = instance
        await clock.time("teardown") {
            _ = try? await OffPool.run {
                running?.stop()
                scratch.stopServers()
                scratch.remove()
            }
        }
    }

    /// `drill.pick: random`: a backup whose consistent point is within `drill.window` (default
    /// 7 days) of the drill, drawn at random; nil (the newest) when the policy picks the latest.
    private func randomPick(from manifests: [BackupManifest], startedAt: Date) -> String? {
        guard let drill = target.drill, drill.pick == .random else { return nil }
        let window = Double(PolicyDuration.seconds(drill.window ?? .seconds(7 * 86_400)))
        return manifests
            .filter { startedAt.timeIntervalSince($0.consistentPoint.time) <= window }
            .randomElement()?.backupID
    }

    /// Restores into the scratch instance and verifies it; returns the instance to tear down.
    /// A failure after the instance started is kept in `seen` so the instance is still
    /// returned; one while starting it throws, and teardown stops whatever pids the scratch
    /// directory records.
    private func restoreAndVerify(_ manifest: BackupManifest, keys: KeyRing, scratch: ScratchDirectory, clock: PhaseClock,
                                  logger: Logger, into seen: inout Observation) async throws -> ScratchInstance? {
        let timing = RestoreTiming()
        func verifyPostgres(_ manifest: BackupManifest,
                            connect: @escaping @Sendable (String) throws -> DrctlSources.PostgresConnection) async throws -> [DrillCheckResult] {
            let verification = PostgresVerification(manifest: manifest, checks: target.drill?.checks ?? [], connect: connect)
            return try await clock.time("verify") { try await OffPool.run { verification.run() } }
        }
        /// `physical`: a physical target's point-in-time restore options (nil: a logical restore).
        func restore(to destination: String, physical: PhysicalRestoreOptions? = nil) async throws {
            var job = RestoreJob(target: target, backupID: manifest.backupID, destination: destination, force: false,
                                 preferredRegion: nil)
            job.physical = physical
            job.timing = timing
            let began = RestoreTiming.now()
            defer {
                clock.record("fetch", seconds: timing.fetchSeconds)
                clock.record("decrypt_decompress", seconds: timing.decryptDecompressSeconds)
                clock.record("load", seconds: timing.loadSeconds)
            }
            let outcome = try await JobRunner(context.nested(logger: logger)).run(job)
            seen.region = outcome.region
            seen.restoredBytes = manifest.rawSize
            let wall = Double(RestoreTiming.now() - began) / 1e9
            seen.throughput = wall > 0 ? (Double(manifest.rawSize) / wall).rounded() : nil
        }
        switch target.kind {
        case .postgres where target.mode == .physical:
            let owner = getuid() == 0 ? "postgres" : nil
            try PostgresTemplate.makeOwnedDirectory(scratch.postgresDirectory, runAs: owner)
            let data = "\(scratch.postgresDirectory)/data"
            let port = try LoopbackPort.free()
            var options = PhysicalRestoreOptions(recoveryTarget: pointInTime.map { .time($0) } ?? .latest, port: port, owner: owner,
                                                 drctlPath: PhysicalRestoreOptions.currentExecutable(), policyPath: policy.sourcePath)
            options.archiving = false
            options.runsVerifyBackup = true
            try await restore(to: data, physical: options)
            return await recoverPhysical(manifest, data: data, port: port, owner: owner, clock: clock, verify: verifyPostgres, into: &seen)
        case .postgres:
            if let into = target.drill?.into {
                try DestinationGuard(target: target).check(host: into.host, port: into.port)
                let server = try DrillServer(into)
                let databases = manifest.objects.compactMap(\.database)
                try await OffPool.run { try server.noteMissing(databases) }
                do {
                    try await restore(to: server.url)
                    seen.checks = try await verifyPostgres(manifest) { try DrctlSources.PostgresConnection(server.endpoint(database: $0)) }
                } catch {
                    seen.error = error
                }
                return ScratchInstance(stop: server.dropCreated)
            }
            let server = try await clock.time("start_instance") {
                try await OffPool.run { try ScratchPostgres(in: scratch, serverVersion: manifest.source.serverVersion, templates: scratchRoot.templatesPath) }
            }
            do {
                try DestinationGuard(target: target).check(host: "127.0.0.1", port: server.port)
                try await restore(to: server.url)
                seen.checks = try await verifyPostgres(manifest) { try DrctlSources.PostgresConnection(server.endpoint(database: $0)) }
            } catch {
                seen.error = error
            }
            return ScratchInstance(stop: server.stop)
        case .redis:
            let name = manifest.objects.first?.name ?? "dump.rdb"
            try await restore(to: "\(scratch.path)/\(name)")
            let server = try await clock.time("start_instance") {
                try await OffPool.run { try ScratchRedis(in: scratch, rdbName: name) }
            }
            do {
                try DestinationGuard(target: target).check(host: "127.0.0.1", port: server.port)
                let verification = RedisVerification(manifest: manifest, endpoint: server.endpoint)
                seen.checks = try await clock.time("verify") { try await OffPool.run { verification.run() } }
            } catch {
                seen.error = error
            }
            return ScratchInstance(stop: server.stop)
        case .command:
            let path = manifest.objects.count == 1 ? "\(scratch.path)/\(manifest.objects[0].name)" : "\(scratch.path)/restored"
            try await restore(to: path)
            seen.checks = await clock.time("verify") { CommandVerification(manifest: manifest, path: path).run() }
            return nil
        }
    }
}

extension DrillRun {
    /// A physical target's drill, once its base backup is restored into the scratch directory
    /// and checked against its manifest and by `pg_verifybackup` (the restore): the server started to recover the WAL
    /// archive to its end (or the drill's point in time) and promote, then the policy's checks.
    /// Its recovery point is the last commit replayed; it never archives (`archive_mode = off`).
    private func recoverPhysical(_ manifest: BackupManifest, data: String, port: Int, owner: String?, clock: PhaseClock,
                                 verify: (BackupManifest, @escaping @Sendable (String) throws -> DrctlSources.PostgresConnection) async throws -> [DrillCheckResult],
                                 into seen: inout Observation) async -> ScratchInstance? {
        var checks = [DrillCheckResult(name: "pg_verifybackup", expected: "passed", actual: "passed", passed: true)]
        let major = RestoredServer.major(of: manifest)
        let server = RestoredServer(dataDirectory: data, major: major, port: port, owner: owner)
        let instance = ScratchInstance(stop: server.stop)
        do {
            let reached = try await clock.time("start_instance") {
                try await server.startAndAwaitPromotion(timeout: PhysicalRestoreOptions.defaultPromotionTimeout, interruption: interruption)
            }
            checks.append(DrillCheckResult(name: "recovered and promoted", expected: "promoted", actual: "promoted", passed: true))
            if let point = reached.commitTime {
                seen.recoveryPoint = point
                seen.rpoSeconds = max(0, Date().timeIntervalSince(point) - clock.elapsed)
            }
            checks += try await verify(manifest) { database in
                try DrctlSources.PostgresConnection(PostgresEndpoint(host: server.socketDirectory, port: port, user: "postgres", database: database,
                                                                     sslmode: "disable", connectTimeout: 10))
            }
        } catch {
            seen.error = error
        }
        seen.checks = checks
        return instance
    }
}

/// A started scratch server, stopped at teardown.
struct ScratchInstance: Sendable {
    let stop: @Sendable () -> Void
}
