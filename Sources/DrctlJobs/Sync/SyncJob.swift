import Logging
import DrctlPipeline
import DrctlPolicy
import DrctlStorage

/// Copies what a region lacks from another, so that every region holds every backup (repair
/// after an outage; DESIGN.md §5). Stored bytes are copied as they are (no key needed): each
/// object streams source → SHA-256 and size check against the manifest → target writer, and the
/// check runs before the object is committed. The manifest is written last, once every object
/// it names is in the target, so a copy interrupted half way is never listed; a re-run skips
/// the objects already there with the right size and finishes the job.
public struct SyncJob: Job {
    public let target: String?
    public let backupID: String?
    /// Read only from this region (default: every region holding the backup, in policy order).
    public let from: String?
    /// Copy only into this region (default: every region lacking the backup).
    public let to: String?

    public init(target: String?, backupID: String?, from: String?, to: String?) {
        self.target = target
        self.backupID = backupID
        self.from = from
        self.to = to
    }

    public enum CopyOutcome: String, Sendable, Encodable {
        /// Objects (or only the manifest) were copied: the region now holds the backup.
        case copied
        /// The region already held the backup.
        case complete
        case failed
    }

    /// One (backup, region) pair, or a region that could not be read at all (`backupID` nil), or
    /// a physical target's WAL archive in a region (`backupID` "wal").
    public struct Result: Sendable {
        public let target: String?
        public let backupID: String?
        public let region: String
        public let outcome: CopyOutcome
        /// The region the bytes came from (several when a source failed and another served).
        public let sources: [String]
        public let objectsCopied: Int
        public let bytesCopied: UInt64
        public let problem: String?
        /// True when the failure is that no source held intact bytes (exit 3).
        public let integrity: Bool
    }

    public func run(in context: JobContext) async throws -> [Result] {
        try await SyncRun(job: self, context: context).run()
    }
}

/// One sync run: the job's steps with its context.
private struct SyncRun: ContextBound, Sendable {
    typealias Result = SyncJob.Result
    let job: SyncJob
    let context: JobContext
    var target: String? { job.target }
    var backupID: String? { job.backupID }
    var from: String? { job.from }
    var to: String? { job.to }

    func run() async throws -> [Result] {
        // Building the stores may fetch credentials (a web identity's, from STS): off the shared threads.
        let repositoryPolicy = policy.repository
        let repository = try await OffPool.run { try Repository(policy: repositoryPolicy) }
        let sourceRegion = try from.map { name in
            guard let region = repository.region(named: name) else {
                throw JobError.unknownRegion(name, known: repository.regions.map(\.name))
            }
            return region
        }
        let targetRegions: [Region] = try to.map { name in
            guard let region = repository.region(named: name) else {
                throw JobError.unknownRegion(name, known: repository.regions.map(\.name))
            }
            return [region]
        } ?? repository.regions
        if let from, let to, from == to {
            throw SyncError.sameRegion(from)
        }
        if let backupID, BackupID(backupID) == nil { throw JobError.invalidBackupID(backupID) }

        // Which backups each region holds; a region that cannot be listed is neither a source
        // nor a target (what it lacks is unknown).
        var held: [String: Set<String>] = [:]
        var entries: [String: BackupManifest] = [:]
        var results: [Result] = []
        var readable: [String] = []
        for region in repository.regions {
            do {
                let listed = try await manifests(in: region, of: repository)
                for (key, manifest) in listed.readable where entries[key] == nil { entries[key] = manifest }
                held[region.name] = listed.keys
                readable.append(region.name)
            } catch {
                logger.warning("region unreadable", metadata: ["region": "\(region.name)", "error": "\(error)"])
                if from == region.name || targetRegions.contains(where: { $0.name == region.name }) {
                    results.append(Result(target: nil, backupID: nil, region: region.name, outcome: .failed,
                                          sources: [], objectsCopied: 0, bytesCopied: 0,
                                          problem: "cannot list the region: \(error)", integrity: false))
                }
            }
        }

        var selected = entries.values.sorted { ($0.target, $0.backupID) < ($1.target, $1.backupID) }
        if let backupID {
            selected = selected.filter { $0.backupID == backupID }
            if selected.isEmpty { throw JobError.backupNotFound(target: target ?? "any", backup: backupID) }
        }
        if let sourceRegion {
            let key: (BackupManifest) -> String = { RepositoryLayout.manifestKey(target: $0.target, backup: $0.id!) }
            let fromSource = selected.filter { held[sourceRegion.name]?.contains(key($0)) == true }
            if backupID != nil && fromSource.isEmpty && held[sourceRegion.name] != nil {
                throw SyncError.notInSource(backup: backupID!, region: sourceRegion.name)
            }
            selected = fromSource
        }

        for manifest in selected {
            let manifestKey = RepositoryLayout.manifestKey(target: manifest.target, backup: manifest.id!)
            let holders = repository.regions.filter { held[$0.name]?.contains(manifestKey) == true }
            let sources = sourceRegion.map { [$0] } ?? holders
            for region in targetRegions where readable.contains(region.name) && region.name != sourceRegion?.name {
                if holders.contains(where: { $0.name == region.name }) {
                    results.append(Result(target: manifest.target, backupID: manifest.backupID, region: region.name,
                                          outcome: .complete, sources: [], objectsCopied: 0, bytesCopied: 0,
                                          problem: nil, integrity: false))
                    continue
                }
                let result = try await copy(manifestKey: manifestKey, manifest: manifest, into: region,
                                            sources: sources, repository: repository)
                results.append(result)
            }
        }
        if backupID == nil {
            for physical in try policy.targets(selecting: target) where physical.mode == .physical {
                let wal = WalSync(target: physical.name, repository: repository, logger: logger)
                results += try await OffPool.run { wal.run(into: targetRegions, from: sourceRegion) }
            }
        }
        return results
    }

    /// Copies one backup into `region`: the objects it lacks, then the manifest. Every storage
    /// request runs through `OffPool`, and the object bytes on their pipeline's threads: a sync
    /// never holds one of Swift's shared threads while a region answers.
    private func copy(manifestKey: String, manifest listed: BackupManifest, into region: Region,
                      sources: [Region], repository: Repository) async throws -> Result {
        func failed(_ problem: String, integrity: Bool = false, used: [String] = [], copied: Int = 0,
                    bytes: UInt64 = 0) -> Result {
            logger.error("sync failed", metadata: [
                "backup": "\(listed.backupID)", "region": "\(region.name)", "error": "\(problem)",
            ])
            return Result(target: listed.target, backupID: listed.backupID, region: region.name, outcome: .failed,
                          sources: used, objectsCopied: copied, bytesCopied: bytes, problem: problem,
                          integrity: integrity)
        }

        let (usable, problems, integrityOnly) = try await OffPool.run {
            Self.manifestCopies(manifestKey, in: sources, of: repository)
        }
        guard let chosen = usable.first else {
            return failed("no source region could serve it: " + problems.joined(separator: "; "),
                          integrity: !problems.isEmpty && integrityOnly)
        }
        let manifest = try BackupManifest.decode(chosen.bytes)

        do {
            // Judged with every region, so a new region is given the repository's id.
            try await OffPool.run {
                let (_, refused) = try repository.prepare(repository.regions, toolVersion: DrctlVersion.current)
                if let (_, error) = refused.first(where: { $0.0.name == region.name }) { throw error }
            }
        } catch {
            return failed("cannot prepare the region: \(error)")
        }

        var copied = 0
        var bytes: UInt64 = 0
        var used: [String] = []
        for object in manifest.objects {
            let present: ObjectInfo?
            do {
                present = try await OffPool.run { try region.store.stat(object.key) }
            } catch {
                return failed("cannot stat \(object.key): \(error)", used: used, copied: copied, bytes: bytes)
            }
            if let present {
                if present.size == object.storedSize { continue }
                return failed(Self.wrongSize(object, present.size, region), used: used, copied: copied, bytes: bytes)
            }
            var objectProblems: [String] = []
            var objectIntegrityOnly = true
            var done = false
            for source in usable.map(\.region) {
                do {
                    try await copyObject(object, manifest: manifest, from: source, to: region)
                    copied += 1
                    bytes += object.storedSize
                    if !used.contains(source.name) { used.append(source.name) }
                    done = true
                    logger.info("object copied", metadata: [
                        "object": "\(object.key)", "from": "\(source.name)", "to": "\(region.name)",
                    ])
                    break
                } catch let error as JobError {
                    if case .interrupted = error { throw error }
                    objectIntegrityOnly = false
                    objectProblems.append("from region '\(source.name)': \(error)")
                } catch StorageError.alreadyExists {
                    // Another sync committed it meanwhile: fine if it has the right size.
                    let size = (try? await OffPool.run { try region.store.stat(object.key) })?.size
                    if size == object.storedSize { done = true; break }
                    return failed(Self.wrongSize(object, size ?? 0, region), used: used, copied: copied, bytes: bytes)
                } catch {
                    if error is CancellationError { throw error }
                    if !SyncJob.isIntegrity(error) { objectIntegrityOnly = false }
                    logger.warning("copy failed", metadata: [
                        "object": "\(object.key)", "from": "\(source.name)", "error": "\(error)",
                    ])
                    objectProblems.append("from region '\(source.name)': \(error)")
                }
            }
            if !done {
                return failed("cannot copy \(object.key): " + objectProblems.joined(separator: "; "),
                              integrity: objectIntegrityOnly, used: used, copied: copied, bytes: bytes)
            }
        }

        // The commit point: every object is there, durable and checked.
        do {
            try await OffPool.run { try region.store.put(manifestKey, bytes: chosen.bytes) }
        } catch StorageError.alreadyExists {
            // Another sync (or a backup) committed it meanwhile.
        } catch {
            return failed("cannot write the manifest: \(error)", used: used, copied: copied, bytes: bytes)
        }
        if used.isEmpty { used = [chosen.region.name] }
        logger.info("backup synced", metadata: [
            "backup": "\(manifest.backupID)", "region": "\(region.name)", "objects": "\(copied)",
        ])
        return Result(target: manifest.target, backupID: manifest.backupID, region: region.name, outcome: .copied,
                      sources: used, objectsCopied: copied, bytesCopied: bytes, problem: nil, integrity: false)
    }

    /// Streams one stored object from `source` to `target`, checking its size and SHA-256
    /// before the target's copy is committed.
    private func copyObject(_ object: StoredObject, manifest: BackupManifest, from source: Region,
                            to target: Region) async throws {
        // Opening the source (S3: a HEAD) and creating the target's writer are requests too.
        let pipeline = try await OffPool.run {
            let reader = try source.store.open(object.key)
            let writer: ObjectWriter
            do {
                writer = try target.store.create(object.key)
            } catch {
                reader.cancel()
                throw error
            }
            let digest = DigestFilter(expecting: DigestFilter.Expectation(
                sha256: object.sha256, size: object.storedSize, object: "\(object.key) in region '\(source.name)'"))
            return Pipeline(source: reader, filters: [digest], sink: WriterSink(writer))
        }
        progress?.began("sync \(manifest.target) \(source.name)→\(target.name)", counter: pipeline.bytesRead,
                        total: object.storedSize)
        defer { progress?.ended() }
        try await interruption.running(pipeline) { try await pipeline.run() }
    }

    /// The manifests of the selection that `region` holds (every key), and those it can serve
    /// (readable and authentic), listed and read off Swift's shared threads.
    private func manifests(in region: Region, of repository: Repository) async throws
        -> (keys: Set<String>, readable: [String: BackupManifest]) {
        let (prefix, logger) = (target.map(RepositoryLayout.manifestsPrefix) ?? "manifests/", self.logger)
        return try await OffPool.run {
            let keys = try region.store.list(prefix: prefix).filter { $0.key.hasSuffix(".json") }.map(\.key)
            var readable: [String: BackupManifest] = [:]
            for key in keys {
                do {
                    readable[key] = try repository.manifest(at: key, in: region)
                } catch {
                    // Unreadable or refused: the backup is not copied from here; `verify` reports it.
                    logger.warning("manifest unreadable or refused: not copied from this region", metadata: [
                        "region": "\(region.name)", "key": "\(key)", "error": "\(UnreadableManifest(key: key, region: region.name, error: error))",
                    ])
                }
            }
            return (Set(keys), readable)
        }
    }

    /// The sources' own manifest bytes, read and believed: the one copied is a source's, byte for
    /// byte; a source whose manifest names other objects than the first one's is not used.
    /// Blocking reads: run it through `OffPool`.
    private static func manifestCopies(_ manifestKey: String, in sources: [Region], of repository: Repository)
        -> (usable: [(region: Region, bytes: [UInt8])], problems: [String], integrityOnly: Bool) {
        var usable: [(region: Region, bytes: [UInt8])] = []
        var problems: [String] = []
        var integrityOnly = true
        for source in sources {
            do {
                let bytes = try source.store.get(manifestKey)
                let manifest = try repository.manifest(decoding: bytes, at: manifestKey, in: source)
                if let first = usable.first {
                    let firstManifest = try BackupManifest.decode(first.bytes)
                    guard firstManifest.objects == manifest.objects else {
                        problems.append("region '\(source.name)': its manifest differs from region '\(first.region.name)''s copy")
                        continue
                    }
                }
                usable.append((source, bytes))
            } catch {
                if !SyncJob.isIntegrity(error) { integrityOnly = false }
                problems.append("region '\(source.name)': \(error)")
            }
        }
        return (usable, problems, integrityOnly)
    }

    private static func wrongSize(_ object: StoredObject, _ size: UInt64, _ region: Region) -> String {
        "\(object.key) already exists in region '\(region.name)' with \(size) bytes but the manifest records "
            + "\(object.storedSize): not overwritten (objects are write-once); check it, delete it, and sync again"
    }
}

extension SyncJob {
    static func isIntegrity(_ error: Error) -> Bool {
        switch error {
        case is IntegrityError: return true
        case let error as WalObjectError:
            if case .newerFormat = error { return false }
            return true
        case let error as RepositoryError:
            switch error {
            case .unreadable, .refused, .unauthenticated: return true
            case .newerFormat: return false
            }
        default: return false
        }
    }
}

/// An `ObjectWriter` as the end of a pipeline: commits when the stream ended well (after
/// every filter's checks), discards otherwise.
final class WriterSink: ByteSink {
    private let writer: ObjectWriter

    init(_ writer: ObjectWriter) {
        self.writer = writer
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws { try writer.write(bytes) }
    func finish() throws { try writer.commit() }
    func abort() { writer.abort() }
}

public enum SyncError: Error, CustomStringConvertible {
    case sameRegion(String)
    case notInSource(backup: String, region: String)

    public var description: String {
        switch self {
        case .sameRegion(let name):
            return "--from and --to both name region '\(name)': nothing to copy"
        case .notInSource(let backup, let region):
            return "backup '\(backup)' is not in region '\(region)' (--from)"
        }
    }
}
