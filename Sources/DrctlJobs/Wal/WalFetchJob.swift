import DrctlCrypto
import DrctlPipeline
import DrctlPolicy
import DrctlStorage
import Foundation
import Logging

/// `drctl wal-fetch`, PostgreSQL's `restore_command`: one WAL file from the first region whose
/// copy authenticates, opened, checked against its header's size and SHA-256, and put at the
/// destination. It fails closed: "absent" (`Outcome.absent`, exit 1, which ends recovery) only
/// when every region answered that it has no such file; any other failure (a region that did not
/// answer after retries, copies that fail their checks, a wrong key) is an error, which the
/// command turns into exit 126 so that PostgreSQL aborts recovery instead of promoting early.
///
/// One retry layer: the store's (`HTTPRetryPolicy.s3`), with more than one region each bounded
/// by its `read_deadline` (`Region.bounded`). A transient fault is retried there; a region that
/// refuses connections is left at once, one that keeps failing once its deadline has passed, and
/// it is not asked again in this run (nor by the read-ahead): the next region is asked within
/// seconds, not after a retry loop of its own around the store's. A lone region gets the store's
/// whole budget (there is no other to ask).
///
/// With a spool (`WalSpool`), it also reads the next segments ahead, side by side with the one
/// asked for, into a directory outside PGDATA; they are served from there only once they
/// authenticate as a region's copy would (docs/ARCHITECTURE.md, "WAL archive").
public struct WalFetchJob: BlockingJob {
    public let target: String
    public let file: String
    public let destination: String
    /// Whose WAL: the data directory's `global/pg_control` names it, unless given.
    public let dataDirectory: String
    public let systemIdentifier: UInt64?
    public let spool: WalSpool?

    public init(target: String, file: String, destination: String, dataDirectory: String, systemIdentifier: UInt64? = nil,
                spool: WalSpool? = nil) {
        self.target = target
        self.file = file
        self.destination = destination
        self.dataDirectory = dataDirectory
        self.systemIdentifier = systemIdentifier
        self.spool = spool
    }

    public enum Outcome: Sendable, Equatable {
        /// Fetched from this region (`spool`: read ahead by an earlier run).
        case fetched(region: String, size: Int)
        /// Every region answered that it holds no such file.
        case absent
    }

    public func runBlocking(in context: JobContext) throws -> Outcome {
        let policy = context.policy
        try WalError.requirePhysical(target, in: policy)
        guard let name = WalFileName(file) else { throw WalError.notWalFileName(file) }
        let system = try systemIdentifier ?? PgControl.systemIdentifier(dataDirectory: dataDirectory)
        let keys = try context.keys.get()
        let policyRegions = try Repository(policy: policy.repository, keys: keys)
        // With one region there is nothing to fail over to: it gets the store's whole budget.
        let repository = policyRegions.regions.count < 2 ? policyRegions
            : policyRegions.with(regions: policyRegions.regions.map { $0.bounded() })
        guard try repository.identity().get().repositoryID != nil else { throw WalError.versionOneRepository }
        let archive = WalArchive(repository: repository, target: target, systemIdentifier: system)
        let documents = try archive.readerDocuments()
        let opener = WalOpener(archive: archive, documents: documents, keys: keys)

        let readAhead = spool.map { spool in
            ReadAhead(spool: spool, archive: archive, after: name, logger: context.logger)
        }
        defer { readAhead?.finish() }

        if let spool, let served = spool.take(name, opener: opener, logger: context.logger) {
            try write(served, to: destination)
            return .fetched(region: WalSpool.regionName, size: served.count)
        }
        var absentIn: [String] = []
        var failures: [String] = []
        for region in repository.regions {
            switch Result(catching: { try opener.open(name, in: region) }) {
            case .success(let bytes?):
                try write(bytes, to: destination)
                for failure in failures {
                    context.logger.warning("WAL file served from another region", metadata: [
                        "file": "\(name)", "region": "\(region.name)", "failure": "\(failure)"])
                }
                return .fetched(region: region.name, size: bytes.count)
            case .success(nil):
                absentIn.append(region.name)
            case .failure(let error):
                if case WalOpener.Failure.key(let keyError) = error { throw keyError }
                failures.append("region '\(region.name)': \(error)")
                context.logger.warning("WAL file not read from region", metadata: ["file": "\(name)", "region": "\(region.name)", "error": "\(error)"])
            }
        }
        guard failures.isEmpty else { throw WalFetchFailed(file: name.description, failures: failures, absentIn: absentIn) }
        return .absent
    }

    /// PostgreSQL reads the file at once and keeps what it needs in pg_wal itself: no fsync.
    private func write(_ bytes: [UInt8], to path: String) throws {
        try FileSink.place(bytes, at: path, durable: false, mode: 0o600)
    }
}

/// Opens WAL objects: header authenticated (`WalArchive.copy`), data key unwrapped, body opened
/// and decompressed, and the result checked against the header's size and SHA-256.
struct WalOpener: Sendable {
    let archive: WalArchive
    let documents: SignedDocuments
    let keys: KeyRing

    /// What went wrong, so that the caller knows whether another attempt or region may help.
    enum Failure: Error, CustomStringConvertible {
        /// The region could not be read (its store's retries spent: the next region is asked).
        case read(any Error)
        /// The copy is not believed: damaged, altered, planted (another region may hold a good one).
        case integrity(any Error)
        /// The data key does not unwrap with this host's key: no region will do better.
        case key(any Error)

        var description: String {
            switch self {
            case .read(let error): return "\(error)"
            case .integrity(let error): return "its copy is refused: \(error)"
            case .key(let error): return "\(error)"
            }
        }
    }

    /// The plain file from `region`, or nil when the region has no copy.
    func open(_ name: WalFileName, in region: Region) throws -> [UInt8]? {
        let copy: WalCopy?
        let body: [UInt8]
        do {
            copy = try archive.copy(of: name, in: region, documents: documents)
            body = try copy?.body() ?? []
        } catch let error as WalObjectError {
            throw Failure.integrity(error)
        } catch {
            throw Failure.read(error)
        }
        guard let copy else { return nil }
        let header = copy.header
        let dataKey: DataKey
        do {
            guard let repositoryID = documents.identity.repositoryID else { throw WalError.versionOneRepository }
            dataKey = try keys.unwrap(header.dataKey, binding: .versionTwo(
                repositoryID: repositoryID, target: archive.target,
                backupID: WalLayout.documentID(systemIdentifier: archive.systemIdentifier, file: name)))
        } catch let error as CryptoError where error.exitClass == .integrity {
            throw Failure.integrity(error)
        } catch {
            throw Failure.key(error)
        }
        do {
            let opener = StreamOpener(dataKey: dataKey, expected: StreamContext(backupID: String(archive.systemIdentifier), objectName: name.description))
            let compressed = try body.withUnsafeBytes { try opener.update($0) } + opener.finish()
            let plain = try compressed.withUnsafeBytes { try ZstdFrame.decompress($0, expectedSize: Int(header.size)) }
            guard hex(sha256(plain)) == header.sha256 else {
                throw WalObjectError.damaged("its contents do not have the SHA-256 its header gives")
            }
            return plain
        } catch {
            throw Failure.integrity(error)
        }
    }
}

/// No region gave the WAL file, and not because all of them lack it.
public struct WalFetchFailed: Error, CustomStringConvertible {
    public let file: String
    public let failures: [String]
    public let absentIn: [String]

    public var description: String {
        "WAL file '\(file)' could not be fetched: " + failures.joined(separator: "; ")
            + (absentIn.isEmpty ? "" : "; absent from region(s) \(absentIn.joined(separator: ", "))")
            + " (recovery must stop rather than end early)"
    }
}
