import DrctlPipeline
import DrctlStorage
import Foundation
import Glibc
import Logging

/// The read-ahead worker (`drctl wal-read-ahead`, started by `wal-fetch` through
/// `WalSpoolWorker`): keeps the spool `spool.depth` segments ahead of the one `wal-fetch`
/// served, each opened from the first region whose copy authenticates exactly as `wal-fetch`
/// opens it (`WalOpener`: header, data key, every sealed chunk, size and SHA-256) and put in the
/// spool as a plain segment under its name only once whole and checked. A copy that fails its
/// checks is never spooled (the next region's is tried; with none, `wal-fetch` meets the
/// segment missing and fetches it itself, failing closed as it always does).
///
/// One worker per spool (`flock` on `worker.lock`: another finds it held and leaves at once),
/// and never for long: it stops once the spool has stayed full, or the archive has had no next
/// segment, for `idleLimit`; after `lifetime`; as soon as the data directory is not recovering
/// any more (no `recovery.signal` nor `standby.signal`: the spooled segments are then removed);
/// or at the first error. The next `wal-fetch` starts another when needed.
public struct WalReadAheadJob: BlockingJob {
    public let target: String
    /// The segment `wal-fetch` served: the spool is kept ahead of it.
    public let after: String
    public let dataDirectory: String
    public let systemIdentifier: UInt64?
    public let spool: WalSpool

    public init(target: String, after: String, dataDirectory: String, systemIdentifier: UInt64?, spool: WalSpool) {
        self.target = target
        self.after = after
        self.dataDirectory = dataDirectory
        self.systemIdentifier = systemIdentifier
        self.spool = spool
    }

    static let idleLimit: Duration = .seconds(3)
    static let lifetime: Duration = .seconds(60)
    static let pollInterval: useconds_t = 20_000

    /// Segments spooled (0 also when another worker holds the spool).
    public func runBlocking(in context: JobContext) throws -> Int {
        guard let name = WalFileName(after), name.kind == .segment else { throw WalError.notWalFileName(after) }
        guard let lock = try spool.tryLock() else { return 0 }
        defer { close(lock) }
        // What a killed worker left half written; what recovery has gone past.
        spool.removeHalfWritten()
        spool.remove(through: name)
        // The server follows one timeline at a time, never back: another's segments will not be asked for.
        for other in spool.spooled() where other.timeline != name.timeline { unlink(spool.path(of: other)) }

        try WalError.requirePhysical(target, in: context.policy)
        let opener = try WalOpener.fromRegions(target: target, systemIdentifier: try systemIdentifier
            ?? PgControl.systemIdentifier(dataDirectory: dataDirectory), in: context)
        let archive = opener.archive

        let clock = ContinuousClock()
        let started = clock.now
        var busy = clock.now
        var last = name
        var count = 0
        var atEnd = false
        while clock.now - started < Self.lifetime {
            guard isRecovering else {
                spool.empty()
                break
            }
            let ahead = spool.spooled().filter { $0.timeline == name.timeline && $0 > name }
            if let newest = ahead.max(), newest > last { last = newest }
            // Full, or the archive's end: waits a little, for the server to take one or to promote
            // (a recovery target short of the archive's end: what it did not take is removed).
            guard ahead.count < spool.depth, !atEnd else {
                if clock.now - busy > Self.idleLimit { break }
                usleep(Self.pollInterval)
                continue
            }
            let next = WalReadAhead.following(last, count: spool.depth - ahead.count, in: archive)
                .filter { access(spool.path(of: $0), F_OK) != 0 }
            guard !next.isEmpty else {
                atEnd = true
                continue
            }
            for segment in next {
                guard spoolCopy(of: segment, opener: opener, regions: archive.repository.regions, logger: context.logger) else {
                    context.logger.info("WAL read-ahead stopped", metadata: ["spooled": "\(count)"])
                    return count
                }
                last = segment
                count += 1
            }
            busy = clock.now
        }
        context.logger.info("WAL read-ahead done", metadata: ["spooled": "\(count)"])
        return count
    }

    /// Whether the server still recovers: a data directory (its `global/pg_control`) without
    /// `recovery.signal` or `standby.signal` has promoted, and will ask for nothing more.
    /// (Given no data directory, e.g. `--system-identifier` outside one, the other bounds hold.)
    var isRecovering: Bool {
        guard access("\(dataDirectory)/global/pg_control", F_OK) == 0 else { return true }
        return access("\(dataDirectory)/recovery.signal", F_OK) == 0 || access("\(dataDirectory)/standby.signal", F_OK) == 0
    }

    /// Opens `name` from the first region whose copy passes every check into the spool; false
    /// when none does (said in the worker's log).
    private func spoolCopy(of name: WalFileName, opener: WalOpener, regions: [Region], logger: Logger) -> Bool {
        var failures: [String] = []
        for region in regions {
            do {
                if try opener.open(name, in: region, to: spool.path(of: name)) != nil {
                    logger.debug("WAL segment spooled", metadata: ["file": "\(name)", "region": "\(region.name)"])
                    return true
                }
            } catch WalOpener.Failure.key(let error), WalOpener.Failure.destination(let error) {
                failures.append("region '\(region.name)': \(error)")
                break
            } catch {
                failures.append("region '\(region.name)': \(error)")
            }
        }
        logger.warning("WAL segment not read ahead", metadata: [
            "file": "\(name)", "failures": "\(failures.isEmpty ? "absent from every region" : failures.joined(separator: "; "))"])
        return false
    }
}

/// Which segments come next in the archive.
enum WalReadAhead {
    /// The archived segments after `name` on its timeline, at most `count`, as the first region
    /// that answers lists them (its folder, and the next one when it ends there): whatever the
    /// segment size, and never past the end of the archive.
    static func following(_ name: WalFileName, count: Int, in archive: WalArchive) -> [WalFileName] {
        guard name.kind == .segment, count > 0 else { return [] }
        let system = WalLayout.systemPrefix(target: archive.target, systemIdentifier: archive.systemIdentifier)
        for region in archive.repository.regions {
            do {
                var found: [WalFileName] = []
                for folder in [name.folder, WalFileName.folder(timeline: name.timeline, log: name.log + 1)] where found.count < count {
                    found += try region.store.list(prefix: system + folder + "/").compactMap { WalLayout.parse($0.key)?.file }
                        .filter { $0.kind == .segment && $0 > name }.sorted()
                }
                return Array(found.prefix(count))
            } catch {
                continue
            }
        }
        return []
    }
}
