import Foundation
import Logging
import DrctlCrypto
import DrctlPipeline
import DrctlPolicy
import DrctlSources
import DrctlStorage

/// One backup of one target: source → zstd → seal → SHA-256 → every region, then the
/// manifest. The manifest write in `commit` is the commit point: until it lands, the backup
/// does not exist; if anything fails before, the objects already written are removed.
public struct BackupJob: Job {
    public let target: TargetPolicy

    public init(target: TargetPolicy) {
        self.target = target
    }

    /// The blocking steps (opening the repository, the target's pre-flight over libpq, region
    /// checks, the lock, the manifest's commit, cleanup after a failure) run off Swift's cooperative pool: under the
    /// agent, several backups at once must not starve its scheduler. The pipeline itself runs
    /// on threads of its own.
    ///
    /// Every failure is logged (one error line) and, once the repository is open, recorded in
    /// every region that takes it: keys that could not be loaded (`context.keys`), a secret that
    /// does not resolve, a pre-flight refused, a dump that breaks off, a commit short of its
    /// quorum alike (check, report and metrics count them). Except a refusal because another run
    /// holds the target (`TargetLockedError`): no backup failed, the other run is this one's; the
    /// caller says so.
    public func run(in context: JobContext) async throws -> BackupManifest {
        try await BackupRun(target: target, context: context).run()
    }
}

/// One backup run: the job's steps with its context.
private struct BackupRun: ContextBound, Sendable {
    let target: TargetPolicy
    let context: JobContext
    var keys: Result<KeyRing, Error> { context.keys }

    /// Who a run is: known before anything that can fail, so every failure has a run to record.
    private struct Attempt: Sendable {
        let repository: Repository
        let id: BackupID
        let startedAt: Date
        /// Every region at first; those that refuse are dropped as the run goes.
        let roster: RegionRoster
        let logger: Logger

        /// The same run with each region's requests bounded by its read deadline, for the
        /// steps after a failure: a region that froze is given up after that, not waited on
        /// for minutes of retries.
        func bounded() -> Attempt {
            Attempt(repository: repository.with(regions: repository.regions.map { $0.bounded() }), id: id,
                    startedAt: startedAt, roster: roster, logger: logger)
        }
    }

    /// What one run holds from its start to its end. Made on the thread that prepared it and
    /// then used by the job's task, one at a time.
    // unchecked: `plan` (a class, the run's state) is handed over once, then used one step at a time.
    private struct Run: @unchecked Sendable {
        let attempt: Attempt
        let plan: BackupPlan
        let keys: KeyRing
        /// Version 2 (an id: authenticated manifests) or version 1 (none, until upgraded).
        let identity: RepositoryIdentity
        let lock: HeldLock

        /// Releases the lock in the regions still in the run. A dropped region (it froze or
        /// failed) is not waited on again: the lock there is abandoned, and the next run takes
        /// it over, finding it released in the others (docs/FORMAT.md, "Lock").
        func releaseLock() {
            for (region, _) in attempt.roster.dropped { lock.abandon(region) }
            lock.release()
        }
    }

    func run() async throws -> BackupManifest {
        let attempt = try await OffPool.run { [self] in try open() }
        let run: Run
        do {
            run = try await OffPool.run { [self] in try begin(attempt) }
        } catch let locked as TargetLockedError {
            throw locked
        } catch {
            _ = try? await OffPool.run { [self] in failed(attempt.bounded(), error) }
            throw error
        }
        do {
            let manifest = try await stream(run)
            _ = try? await OffPool.run { run.releaseLock() }
            return manifest
        } catch {
            _ = try? await OffPool.run { [self] in
                let bounded = attempt.bounded()
                removeLeftovers(of: attempt.id, in: bounded.repository.regions, logger: attempt.logger)
                failed(bounded, error)
                run.releaseLock()
            }
            throw error
        }
    }

    /// The run's identity and its repository. Nothing can record a failure before the
    /// repository is open (the policy names no usable region): that one is only logged.
    private func open() throws -> Attempt {
        let startedAt = Date()
        let id = BackupID(startedAt: startedAt)
        var logger = self.logger
        logger[metadataKey: "target"] = "\(target.name)"
        logger[metadataKey: "backup"] = "\(id)"
        do {
            let repository = try Repository(policy: policy.repository)
            logger.info("backup started", metadata: ["regions": "\(repository.regions.map(\.name))"])
            return Attempt(repository: repository, id: id, startedAt: startedAt,
                           roster: RegionRoster(regions: repository.regions, minRegions: policy.repository.minRegions),
                           logger: logger)
        } catch {
            logger.error("backup failed", metadata: ["error": "\(error)"])
            throw error
        }
    }

    /// Resolves secrets and checks the target before any backup data is written, prepares the
    /// regions (dropping those that refuse) and takes the target's lock.
    private func begin(_ attempt: Attempt) throws -> Run {
        let keys = try self.keys.get()
        let plan = try makeBackupPlan(for: target)
        let (repository, roster, logger) = (attempt.repository, attempt.roster, attempt.logger)
        let (identity, failed) = try repository.prepare(repository.regions, toolVersion: DrctlVersion.current)
        for (region, error) in failed {
            logger.warning("region dropped", metadata: ["region": "\(region.name)", "error": "\(error)"])
            roster.drop(region, because: error)
        }
        if identity.repositoryID != nil { _ = try keys.requireSigningKey() }
        if plan.kind == PhysicalBackupInfo.kind, identity.repositoryID == nil {
            throw PhysicalBackupError.versionOneRepository(target: target.name)
        }
        // Too few regions left: the error names each one's cause (a wrong secret, a frozen
        // endpoint), not the lock that then has nowhere to go.
        try roster.checkQuorum()
        // One backup or prune of a target at a time, across hosts (Locks/HeldLock.swift).
        let lock = try HeldLock.take(target: target.name, operation: "backup", runID: attempt.id.rawValue,
                                     regions: roster.alive, required: policy.repository.minRegions,
                                     lifetime: policy.repository.lockLifetimeSeconds,
                                     signing: repository.signedDocuments(signingKey: Result { try keys.requireSigningKey() }),
                                     logger: logger)
        return Run(attempt: attempt, plan: plan, keys: keys, identity: identity, lock: lock)
    }

    /// Every object through the pipeline into the live regions, then the manifest.
    private func stream(_ run: Run) async throws -> BackupManifest {
        let (plan, id, roster, logger) = (run.plan, run.attempt.id, run.attempt.roster, run.attempt.logger)
        try roster.checkQuorum()
        let dataKey = DataKey.random()
        let binding: WrapBinding = run.identity.repositoryID.map {
            .versionTwo(repositoryID: $0, target: target.name, backupID: id.rawValue)
        } ?? .versionOne(backupID: id.rawValue)
        let wrapped = try run.keys.wrap(dataKey, binding: binding)
        try await OffPool.run { try run.plan.begin(label: "drctl \(id.rawValue)") }
        var objects: [StoredObject] = []
        for name in plan.objectNames {
            objects.append(try await store(objectNamed: name, of: plan, id: id, dataKey: dataKey, roster: roster))
        }
        try await OffPool.run { try run.plan.streamed() }
        if let physical = plan.physical {
            // A base backup restores nothing without its WAL: commit only once the archive holds it.
            guard let cluster = physical.cluster else {
                throw PhysicalBackupError.unreadableSystemIdentifier(target: target.name, text: physical.systemIdentifier)
            }
            let archive = WalArchive(repository: run.attempt.repository, target: target.name, systemIdentifier: cluster)
            try await WalQuorumWait(target: target.name, physical: physical, holding: archive.holding,
                                    minRegions: policy.repository.minRegions,
                                    timeout: target.postgres?.walWaitTimeout ?? PostgresConnection.defaultWalWaitTimeout)
                .run(interruption: interruption, logger: logger)
        }
        try await OffPool.run { [self] in try confirmLock(of: run) }
        let (point, facts) = plan.finished(startedAt: run.attempt.startedAt)
        for warning in plan.warnings { logger.warning("\(warning)") }
        let unsealed = BackupManifest(
            backupID: id.rawValue, target: target.name, kind: plan.kind,
            tool: ToolInfo(version: DrctlVersion.current), startedAt: run.attempt.startedAt, finishedAt: Date(),
            consistentPoint: point,
            compression: CompressionInfo(level: policy.repository.compression.level),
            encryption: EncryptionInfo(chunkSize: StreamSealer.defaultChunkSize, dataKey: wrapped),
            objects: objects, source: facts,
            regions: roster.alive.map(\.name),
            status: roster.alive.count == roster.regions.count ? .complete : .degraded,
            physical: plan.physical)
        let (manifest, bytes) = try await OffPool.run { [self] in try stored(unsealed, run: run, dataKey: dataKey) }
        try await OffPool.run { [self] in try commit(bytes, id: id, roster: roster) }
        for (region, error) in roster.dropped {
            logger.warning("backup is degraded: region missing it", metadata: ["region": "\(region)", "error": "\(error)"])
        }
        logger.info("backup committed", metadata: [
            "status": "\(manifest.status.rawValue)", "raw_bytes": "\(manifest.rawSize)",
            "stored_bytes": "\(manifest.storedSize)",
        ])
        return manifest
    }

    /// After a failure: a failure record says what happened (best effort: a run that committed
    /// nothing leaves no manifest, and check, report, metrics and notifications need its history).
    private func failed(_ attempt: Attempt, _ error: Error) {
        attempt.logger.error("backup failed", metadata: ["error": "\(error)"])
        let record = FailureRecord(runID: attempt.id.rawValue, target: target.name, kind: target.kind.rawValue,
                                   tool: ToolInfo(version: DrctlVersion.current), startedAt: attempt.startedAt, finishedAt: Date(),
                                   error: "\(error)", regions: attempt.roster.alive.map(\.name))
        for (region, refusal) in attempt.repository.write(record, signedBy: KeyRing.recordSigningKey(keys, policy: policy.repository.encryption)) {
            attempt.logger.warning("failure record not written", metadata: ["region": "\(region)", "error": "\(refusal)"])
        }
    }

    /// Streams one object of the backup into every live region.
    private func store(objectNamed name: String, of plan: BackupPlan, id: BackupID, dataKey: DataKey,
                       roster: RegionRoster) async throws -> StoredObject {
        let key = RepositoryLayout.dataKey(target: target.name, backup: id, object: name)
        let compression = policy.repository.compression
        let digest = DigestFilter()
        let filters: [StreamFilter] = [
            try ZstdCompressor(level: compression.level, threads: compression.threads,
                               jobSize: StreamMemory(policy.repository).compressionJobSize),
            FusedFilter([
                SealFilter(dataKey: dataKey, context: StreamContext(backupID: id.rawValue, objectName: name)),
                digest,
            ]),
        ]
        let sink = try RegionFanOutSink(key: key, roster: roster)
        // The source starts last, once everything that could refuse to start has started.
        let source: ByteSource
        do {
            source = try plan.source(for: name)
        } catch {
            sink.abort()
            throw error
        }
        let pipeline = Pipeline(source: source, filters: filters, sink: sink)
        progress?.began("backup \(target.name)", counter: pipeline.bytesRead, total: nil)
        defer { progress?.ended() }
        try await interruption.running(pipeline) { try await pipeline.run() }
        return StoredObject(name: name, key: key, rawSize: pipeline.bytesRead.total,
                            storedSize: digest.byteCount, sha256: digest.sha256 ?? "", database: plan.database(of: name))
    }

    /// Drops the regions where the lock was lost (another run may be pruning this run's objects
    /// there as leftovers), then checks that enough regions remain to commit.
    private func confirmLock(of run: Run) throws {
        for (region, _) in run.attempt.roster.dropped { run.lock.abandon(region) }
        for lost in run.lock.confirm() {
            guard let region = run.attempt.roster.alive.first(where: { $0.name == lost.region }) else { continue }
            run.attempt.roster.drop(region, because: LockLostError(target: target.name, region: lost.region, reason: lost.reason))
        }
        try run.attempt.roster.checkQuorum()
    }

    /// The manifest as stored: version 2 (linked to the previous backup, MAC and signature in
    /// place) in a repository with an id, else version 1.
    private func stored(_ unsealed: BackupManifest, run: Run, dataKey: DataKey) throws -> (BackupManifest, [UInt8]) {
        var manifest = unsealed
        guard let repositoryID = run.identity.repositoryID else { return (manifest, try manifest.encoded()) }
        manifest.previous = previousBackup(in: run.attempt.repository, region: run.attempt.roster.alive.first, before: run.attempt.id)
        let bytes = try manifest.seal(repositoryID: repositoryID, signingKey: run.keys.requireSigningKey(), dataKey: dataKey)
        return (manifest, bytes)
    }

    /// The target's newest authenticated backup before `id` in `region` (the chain link a
    /// version 2 manifest carries), nil when there is none or the region cannot say. Read
    /// newest first, each with what the listing said of it (no second request for its size).
    private func previousBackup(in repository: Repository, region: Region?, before id: BackupID) -> BackupReference? {
        guard let region, let listed = try? region.store.list(prefix: RepositoryLayout.manifestsPrefix(target: target.name)) else { return nil }
        let key = RepositoryLayout.manifestKey(target: target.name, backup: id)
        for object in listed.filter({ $0.key < key }).reversed() {
            guard let bytes = try? region.store.get(listed: object),
                  let manifest = try? repository.manifest(decoding: bytes, at: object.key, in: region) else { continue }
            return BackupReference(manifest)
        }
        return nil
    }

    /// Writes the manifest's stored bytes to every region that holds all the data: the commit point.
    private func commit(_ bytes: [UInt8], id: BackupID, roster: RegionRoster) throws {
        let key = RepositoryLayout.manifestKey(target: target.name, backup: id)
        var committed: [Region] = []
        for region in roster.alive {
            do {
                try region.store.put(key, bytes: bytes)
                committed.append(region)
            } catch {
                roster.drop(region, because: error)
            }
        }
        do {
            try roster.checkQuorum()
        } catch {
            // Too few regions hold the manifest: withdraw it where it landed, so no region
            // lists a backup that did not reach its quorum.
            for region in committed { try? region.store.delete(key) }
            throw error
        }
    }

    /// Removes the objects of a backup that failed before its commit (best effort: `prune`
    /// removes anything left after a crash).
    private func removeLeftovers(of id: BackupID, in regions: [Region], logger: Logger) {
        let prefix = RepositoryLayout.dataPrefix(target: target.name, backup: id)
        for region in regions {
            do {
                try region.store.delete(keys: region.store.list(prefix: prefix).map(\.key))
            } catch {
                logger.warning("could not remove the failed backup's objects; prune will",
                               metadata: ["region": "\(region.name)", "error": "\(error)"])
            }
        }
    }
}
