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
public struct BackupJob: Sendable {
    public let policy: Policy
    public let target: TargetPolicy
    public let keys: KeyRing
    public let logger: Logger
    public let progress: ProgressObserver?
    /// Lets a signal handler stop the pipeline that is running.
    public let interruption: Interruption

    public init(policy: Policy, target: TargetPolicy, keys: KeyRing, logger: Logger,
                progress: ProgressObserver? = nil, interruption: Interruption = Interruption()) {
        self.policy = policy
        self.target = target
        self.keys = keys
        self.logger = logger
        self.progress = progress
        self.interruption = interruption
    }

    public func run() async throws -> BackupManifest {
        // Resolves secrets and checks the target before anything is written.
        let plan = try makeBackupPlan(for: target)
        let repository = try Repository(policy: policy.repository)
        let startedAt = Date()
        let id = BackupID(startedAt: startedAt)
        var logger = self.logger
        logger[metadataKey: "target"] = "\(target.name)"
        logger[metadataKey: "backup"] = "\(id)"
        logger.info("backup started", metadata: ["regions": "\(repository.regions.map(\.name))"])

        let roster = RegionRoster(regions: repository.regions, minRegions: policy.repository.minRegions)
        for region in repository.regions {
            do {
                try repository.prepare(region, toolVersion: DrctlVersion.current)
            } catch {
                logger.warning("region dropped", metadata: ["region": "\(region.name)", "error": "\(error)"])
                roster.drop(region, because: error)
            }
        }
        // One backup or prune of a target at a time, across hosts (Locks/HeldLock.swift).
        let lock = try HeldLock.take(target: target.name, operation: "backup", runID: id.rawValue,
                                     regions: roster.alive, required: policy.repository.minRegions, logger: logger)
        defer { lock.release() }
        do {
            try roster.checkQuorum()
            let dataKey = DataKey.random()
            let wrapped = try keys.wrap(dataKey, backupID: id.rawValue)
            var objects: [StoredObject] = []
            for name in plan.objectNames {
                objects.append(try await store(objectNamed: name, of: plan, id: id, dataKey: dataKey, roster: roster))
            }
            let (point, facts) = plan.finished(startedAt: startedAt)
            for warning in plan.warnings { logger.warning("\(warning)") }
            let manifest = BackupManifest(
                backupID: id.rawValue, target: target.name, kind: plan.kind,
                tool: ToolInfo(version: DrctlVersion.current), startedAt: startedAt, finishedAt: Date(),
                consistentPoint: point,
                compression: CompressionInfo(level: policy.repository.compression.level),
                encryption: EncryptionInfo(chunkSize: StreamSealer.defaultChunkSize, dataKey: wrapped),
                objects: objects, source: facts,
                regions: roster.alive.map(\.name),
                status: roster.alive.count == roster.regions.count ? .complete : .degraded)
            try commit(manifest, id: id, roster: roster, logger: logger)
            for (region, error) in roster.dropped {
                logger.warning("backup is degraded: region missing it", metadata: ["region": "\(region)", "error": "\(error)"])
            }
            logger.info("backup committed", metadata: [
                "status": "\(manifest.status.rawValue)", "raw_bytes": "\(manifest.rawSize)",
                "stored_bytes": "\(manifest.storedSize)",
            ])
            return manifest
        } catch {
            removeLeftovers(of: id, in: repository.regions, logger: logger)
            logger.error("backup failed", metadata: ["error": "\(error)"])
            // History for check, report, metrics and notifications: a run that committed
            // nothing leaves no manifest, so it says so in a failure record (best effort).
            let record = FailureRecord(runID: id.rawValue, target: target.name, kind: plan.kind,
                                       tool: ToolInfo(version: DrctlVersion.current), startedAt: startedAt, finishedAt: Date(),
                                       error: "\(error)", regions: roster.alive.map(\.name))
            for (region, refusal) in repository.write(record) {
                logger.warning("failure record not written", metadata: ["region": "\(region)", "error": "\(refusal)"])
            }
            throw error
        }
    }

    /// Streams one object of the backup into every live region.
    private func store(objectNamed name: String, of plan: BackupPlan, id: BackupID, dataKey: DataKey,
                       roster: RegionRoster) async throws -> StoredObject {
        let key = RepositoryLayout.dataKey(target: target.name, backup: id, object: name)
        let compression = policy.repository.compression
        let digest = DigestFilter()
        let filters: [StreamFilter] = [
            try ZstdCompressor(level: compression.level, threads: compression.threads),
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

    /// Writes the manifest to every region that holds all the data: the commit point.
    private func commit(_ manifest: BackupManifest, id: BackupID, roster: RegionRoster, logger: Logger) throws {
        let bytes = try manifest.encoded()
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
