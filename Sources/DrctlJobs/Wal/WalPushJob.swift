import DrctlCrypto
import DrctlPipeline
import DrctlPolicy
import DrctlStorage
import Foundation

/// `drctl wal-push`, PostgreSQL's `archive_command` (docs/FORMAT.md, "WAL archive"): one WAL
/// file checked against the target's cluster, compressed, sealed under a data key of its own,
/// signed, and written to every region at once. It succeeds only when `min_regions` regions
/// hold the file, so PostgreSQL keeps (and retries) every file drctl has not stored.
///
/// Every segment waits for this, so it does the least it can: one read of the file, hashed,
/// compressed and sealed as it is read and while the keys and the repository are read
/// (`WalFileSealing`), one write per region, all regions side by side.
public struct WalPushJob: BlockingJob {
    public let target: String
    /// The file as PostgreSQL names it (`%p`: relative to the data directory, the working directory).
    public let path: String
    /// Where `global/pg_control` is: the cluster whose WAL this is.
    public let dataDirectory: String
    public let compressionLevel: Int32
    /// Archive a system identifier the target's archive does not know although it holds others.
    public let newSystem: Bool

    /// zstd level 1: BENCHMARKS.md ("wal-push") has the measurements behind it.
    public static let defaultCompressionLevel: Int32 = 1

    public init(target: String, path: String, dataDirectory: String, compressionLevel: Int32 = WalPushJob.defaultCompressionLevel,
                newSystem: Bool = false) {
        self.target = target
        self.path = path
        self.dataDirectory = dataDirectory
        self.compressionLevel = compressionLevel
        self.newSystem = newSystem
    }

    public struct Outcome: Sendable {
        public let file: WalFileName
        public let systemIdentifier: UInt64
        /// Regions that now hold the file: written by this run, or already holding it.
        public let written: [String]
        public let alreadyHeld: [String]
        /// Regions that could not take it, and why (the run still succeeded at quorum).
        public let failed: [(region: String, error: String)]
        public let size: Int
        public let storedSize: Int
    }

    /// The file opened, checked and being sealed (`WalFileSealing`), or why not.
    struct Opened: Sendable {
        let name: WalFileName
        let file: WalFile
        let system: UInt64
        let sealing: WalFileSealing
    }

    /// Set by `started()`: the opening done before the job runs.
    private var opening: Result<Opened, any Error>?
    /// Whether `opening` is another job's, started earlier (`started(from:)`).
    public private(set) var openedEarly = false

    /// The job with its file opened and its sealing under way already, so that the command
    /// reads its policy while the file is compressed, not before (every segment waits for the
    /// push: BENCHMARKS.md, "wal-push"). An error opening the file is thrown when the job runs,
    /// after the checks of the target that come first.
    public func started() -> WalPushJob {
        var job = self
        job.opening = Result { try open() }
        return job
    }

    /// This job with the opening `early` started, when `early` opens the same file of the same
    /// data directory at the same level (the command line read before it was parsed:
    /// `wal-push`'s WalPushPrestart); otherwise `started()`.
    public func started(from early: WalPushJob?) -> WalPushJob {
        guard let early, let opening = early.opening, early.path == path, early.dataDirectory == dataDirectory,
              early.compressionLevel == compressionLevel else { return started() }
        var job = self
        job.opening = opening
        job.openedEarly = true
        return job
    }

    private func open() throws -> Opened {
        let fileName = (path as NSString).lastPathComponent
        guard let name = WalFileName(fileName) else { throw WalError.notWalFileName(fileName) }
        let file = try WalFile(path: path)
        let system = try systemIdentifier(of: name, file: file)
        let sealing = WalFileSealing(file, level: compressionLevel,
                                     context: StreamContext(backupID: String(system), objectName: name.description))
        return Opened(name: name, file: file, system: system, sealing: sealing)
    }

    public func runBlocking(in context: JobContext) throws -> Outcome {
        let policy = context.policy
        try WalError.requirePhysical(target, in: policy)
        let opened = try opening?.get() ?? open()
        let (name, file, system, sealing) = (opened.name, opened.file, opened.system, opened.sealing)

        let keys = try context.keys.get()
        let repository = try Repository(policy: policy.repository, keys: keys)
        let (identity, unprepared) = try repository.prepare(repository.regions, toolVersion: DrctlVersion.current)
        guard let repositoryID = identity.repositoryID else { throw WalError.versionOneRepository }
        let signingKey = try keys.requireSigningKey()
        let live = repository.regions.filter { region in !unprepared.contains { $0.0.name == region.name } }
        let archive = WalArchive(repository: repository.with(regions: live), target: target, systemIdentifier: system)
        try checkKnownSystem(archive, name: name)

        let documentID = WalLayout.documentID(systemIdentifier: system, file: name)
        let wrapped = try keys.wrap(sealing.dataKey, binding: .versionTwo(repositoryID: repositoryID, target: target, backupID: documentID))
        let signed = SignedDocuments(identity: identity, signingKey: .success(signingKey), writers: repository.trust.writers)
        func makeHeader(sha256: String, storedSize: UInt64) -> WalObjectHeader {
            WalObjectHeader(target: target, systemIdentifier: system, file: name, size: UInt64(file.size), sha256: sha256,
                            storedSize: storedSize, compressionLevel: compressionLevel, dataKey: wrapped,
                            pushedAt: Date(), tool: ToolInfo(version: DrctlVersion.current))
        }
        func makeHead(of header: WalObjectHeader) throws -> [UInt8] {
            WalObjectFraming.head(header: try signed.stored(header, kind: .wal, target: target, id: documentID))
        }
        let estimated = try makeHead(of: makeHeader(sha256: String(repeating: "0", count: 64),
                                            storedSize: WalEarlyWrite.estimatedStoredSize(fileSize: file.size)))
        let readers = try archive.readerDocuments()
        let early = Self.startEarlyWrites(in: live, key: archive.key(name), fileSize: file.size, bodyOffset: estimated.count, sealing: sealing)
        let sealed: WalFileSealing.Sealed, header: WalObjectHeader, head: [UInt8]
        do {
            sealed = try sealing.wait()
            header = makeHeader(sha256: sealed.sha256, storedSize: UInt64(sealed.storedSize))
            head = try makeHead(of: header)
        } catch {
            for write in early { write?.abort() }
            throw error
        }
        let sha = sealed.sha256

        let outcomes = BoundedReads.map(Array(zip(live, early)), width: live.count) { pair in
            let (region, early) = pair
            return Self.store(name, head: head, body: sealed.body, storedSize: sealed.storedSize, of: header, in: region, early: early,
                              archive: archive, documents: readers)
        }
        var written: [String] = [], held: [String] = [], failed = unprepared.map { ($0.0.name, "\($0.1)") }
        var conflicts: [(region: String, sha256: String)] = []
        for (region, outcome) in zip(live, outcomes) {
            switch outcome {
            case .written: written.append(region.name)
            case .alreadyHeld: held.append(region.name)
            case .conflict(let archived): conflicts.append((region.name, archived))
            case .failed(let error): failed.append((region.name, "\(error)"))
            }
        }
        for (region, error) in failed {
            context.logger.warning("region did not take the WAL file", metadata: ["region": "\(region)", "file": "\(name)", "error": "\(error)"])
        }
        if !conflicts.isEmpty {
            let error = WalError.conflict(file: name.description, target: target, regions: conflicts.map(\.region),
                                          archived: conflicts.map(\.sha256), pushed: sha)
            record(error, in: repository.with(regions: live), signingKey: signingKey, logger: context)
            throw error
        }
        guard written.count + held.count >= policy.repository.minRegions else {
            throw WalError.quorum(file: name.description, held: written.count + held.count, minRegions: policy.repository.minRegions,
                                  failures: failed.map { "region '\($0.0)': \($0.1)" })
        }
        return Outcome(file: name, systemIdentifier: system, written: written, alreadyHeld: held,
                       failed: failed.map { (region: $0.0, error: $0.1) }, size: file.size, storedSize: head.count + sealed.storedSize)
    }

    /// The cluster the file belongs to: a segment's header names it, and must name the data
    /// directory's cluster (when its `pg_control` can be read); a file without a header takes
    /// the data directory's.
    private func systemIdentifier(of name: WalFileName, file: WalFile) throws -> UInt64 {
        let control = Result { try PgControl.systemIdentifier(dataDirectory: dataDirectory) }
        guard name.hasPageHeader else {
            do { return try control.get() } catch { throw WalError.noSystemIdentifier(file: name.description, reason: "\(error)") }
        }
        let header: WalSegmentHeader
        do { header = try WalSegmentHeader(file.prefix) } catch { throw WalError.notASegment(path: path, reason: "\(error)") }
        if name.kind == .segment, file.size != header.segmentSize {
            throw WalError.notASegment(path: path, reason: "it is \(file.size) bytes long, its header says segments are \(header.segmentSize)")
        }
        guard header.pageAddress == name.startLSN(segmentSize: header.segmentSize) else {
            throw WalError.notASegment(path: path, reason: "its first page is at \(header.pageAddress), not where '\(name)' begins "
                + "(\(name.startLSN(segmentSize: header.segmentSize)!)): it was renamed")
        }
        // The first segment of a new timeline starts as a copy of the old timeline's, so its
        // first page may name the timeline before; never a later one.
        guard header.timeline <= name.timeline else {
            throw WalError.notASegment(path: path, reason: "its first page is on timeline \(header.timeline), after the name's \(name.timeline)")
        }
        if case .success(let dataDirectorySystem) = control, dataDirectorySystem != header.systemIdentifier {
            throw WalError.otherCluster(file: name.description, segment: header.systemIdentifier, dataDirectory: dataDirectorySystem)
        }
        return header.systemIdentifier
    }

    /// Refuses a cluster the target's archive does not know while it holds another's. Cheap
    /// on the usual path: the folder this file goes to already holds files of this cluster; only
    /// the first file of a folder (every 4 GiB of WAL) lists the target's whole archive.
    /// The first region that answers decides; one that does not is left to the writes (which
    /// drop it), so a region down does not stop archiving while `min_regions` others hold.
    private func checkKnownSystem(_ archive: WalArchive, name: WalFileName) throws {
        guard !newSystem else { return }
        let folder = WalLayout.systemPrefix(target: target, systemIdentifier: archive.systemIdentifier) + name.folder + "/"
        for region in archive.repository.regions {
            let systems: Set<UInt64>
            do {
                guard try region.store.list(prefix: folder).isEmpty else { return }
                systems = try archive.repository.walSystems(target: target, in: region)
            } catch {
                continue
            }
            guard systems.isEmpty || systems.contains(archive.systemIdentifier) else {
                throw WalError.unknownSystem(target: target, system: archive.systemIdentifier, archived: systems.sorted())
            }
            return
        }
    }

    enum RegionOutcome: Sendable {
        case written, alreadyHeld
        case conflict(archivedSHA256: String)
        case failed(any Error)
    }

    /// Opens the object in each region whose store can take its body before its head (a local
    /// directory), and has the body written there as it is sealed (`WalEarlyWrite`); nil for
    /// the other regions, and for all when the file is small or the object cannot be opened
    /// (`store` then writes it, and meets the error again).
    static func startEarlyWrites(in regions: [Region], key: String, fileSize: Int, bodyOffset: Int,
                                 sealing: WalFileSealing) -> [WalEarlyWrite?] {
        guard fileSize >= WalEarlyWrite.minimumFileSize else { return regions.map { _ in nil } }
        let writes = regions.map { region -> WalEarlyWrite? in
            guard let store = region.store as? PositionalObjectStore, let writer = try? store.createPositional(key) else { return nil }
            return WalEarlyWrite(writer: writer, bodyOffset: bodyOffset)
        }
        let started = writes.compactMap { $0 }
        if !started.isEmpty {
            // Where every region takes the body as it comes, no one needs it in memory.
            sealing.stream(retaining: started.count < regions.count) { piece, offset in
                for write in started { write.write(piece, at: offset) }
            }
        }
        return writes
    }

    /// One region: the object written with create-if-absent (its body already written by `early`,
    /// where there is one and its head fits); where the name is taken, the copy there decides
    /// (the idempotency rule of docs/FORMAT.md, "WAL archive"). `body` is nil when only `early`
    /// has it (`WalFileSealing.stream(retaining:into:)`).
    static func store(_ name: WalFileName, head: [UInt8], body: [[UInt8]]?, storedSize: Int, of header: WalObjectHeader,
                      in region: Region, early: WalEarlyWrite? = nil, archive: WalArchive, documents: SignedDocuments) -> RegionOutcome {
        do {
            // Without `early` the body is kept: bodies go unkept only where every region writes early.
            var parts = body ?? []
            if let early {
                guard let rest = try early.finish(head: head, kept: body, size: storedSize) else { return .written }
                parts = rest
            }
            let writer = try region.store.create(archive.key(name))
            do {
                try head.withUnsafeBytes { try writer.write($0) }
                for part in parts { try part.withUnsafeBytes { try writer.write($0) } }
                try writer.commit()
                return .written
            } catch {
                writer.abort()
                throw error
            }
        } catch StorageError.alreadyExists {
            do {
                guard let existing = try archive.copy(of: name, in: region, documents: documents) else {
                    return .failed(StorageError.notFound(key: archive.key(name), location: region.store.location))
                }
                return existing.header.sameContents(as: header) ? .alreadyHeld : .conflict(archivedSHA256: existing.header.sha256)
            } catch {
                return .failed(error)
            }
        } catch {
            return .failed(error)
        }
    }

    /// A conflict is history: a failure record (`kind: wal`) that `check` reports as a WARNING.
    private func record(_ error: WalError, in repository: Repository, signingKey: SigningKey, logger context: JobContext) {
        let now = Date()
        let record = FailureRecord(runID: BackupID(startedAt: now).rawValue, target: target, kind: FailureRecord.walKind,
                                   tool: ToolInfo(version: DrctlVersion.current), startedAt: now, finishedAt: now,
                                   error: "\(error)", regions: repository.regions.map(\.name))
        for (region, refusal) in repository.write(record, signedBy: .success(signingKey)) {
            context.logger.warning("failure record not written", metadata: ["region": "\(region)", "error": "\(refusal)"])
        }
    }
}

extension FailureRecord {
    /// The `kind` of a failure record `wal-push` writes (a conflict), which `check` reports apart
    /// from failed backups.
    public static let walKind = "wal"

    /// Whether the record is of a backup run (not a `wal-push` conflict).
    public var isBackupFailure: Bool { kind != Self.walKind }
}
