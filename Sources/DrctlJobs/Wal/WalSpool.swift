import DrctlStorage
import Foundation
import Logging

/// Where `wal-fetch` reads ahead (`--spool DIR`, by default `<cache dir>/wal-spool`): a
/// directory outside PGDATA holding WAL objects exactly as a region stores them, under the same
/// keys. Nothing there is trusted: a spooled file is served only once it opens as a region's
/// copy would (header signature, data key, every sealed chunk, size and SHA-256), so a file a
/// killed run left half written, or anyone altered, is refused (and fetched from the regions
/// again). Each file is removed when it is served or refused.
public struct WalSpool: Sendable {
    /// How the spool is named in messages and outcomes.
    public static let regionName = "spool"
    public let directory: String
    /// How many segments after the one asked for are read ahead.
    public let depth: Int

    public init(directory: String, depth: Int) {
        self.directory = directory
        self.depth = depth
    }

    var region: Region { Region(name: Self.regionName, store: LocalDirectoryStore(root: directory)) }

    /// Keeps `bytes` (an object as a region stores it) under `key`, without the fsyncs of a
    /// region's write: nothing spooled has to outlive a crash (a file that is cut or missing is
    /// refused or absent, and fetched from the regions again), and `wal-fetch`, on recovery's
    /// critical path, waits for its read-ahead before it exits.
    func put(_ key: String, bytes: [UInt8]) throws {
        let path = "\(directory)/\(key)"   // a key of the archive's layout (`WalArchive.key`)
        try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path,
                                                withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try FileSink.place(bytes, at: path, durable: false, mode: 0o600)
    }

    /// The file read ahead by an earlier run, opened and checked; nil when there is none or it
    /// does not authenticate. Removed either way.
    func take(_ name: WalFileName, opener: WalOpener, logger: Logger) -> [UInt8]? {
        let region = self.region
        let key = opener.archive.key(name)
        guard (try? region.store.stat(key)) != nil else { return nil }
        defer { try? region.store.delete(key) }
        do {
            return try opener.open(name, in: region)
        } catch {
            logger.warning("WAL file read ahead is refused; fetching it again", metadata: ["file": "\(name)", "error": "\(error)"])
            return nil
        }
    }
}

/// The segments after the one asked for, copied (as stored) from the first region holding each
/// into the spool on threads of their own while the asked-for one is fetched. `finish()` waits
/// for them: nothing runs after `wal-fetch` exits, so no spool file is written by a process
/// PostgreSQL no longer waits for.
final class ReadAhead: Sendable {
    private let done = DispatchSemaphore(value: 0)

    init(spool: WalSpool, archive: WalArchive, after name: WalFileName, logger: Logger) {
        let region = spool.region
        // Files older than the one asked for will not be asked for again (recovery goes forward).
        for object in (try? region.store.list(prefix: WalLayout.targetPrefix(archive.target))) ?? [] {
            if let file = WalLayout.parse(object.key)?.file, file.timeline == name.timeline, !file.isHistory, file < name {
                try? region.store.delete(object.key)
            }
        }
        let done = self.done
        Thread.detachNewThread {
            let names = Self.following(name, count: spool.depth, in: archive).filter { (try? region.store.stat(archive.key($0))) == nil }
            _ = BoundedReads.map(names, width: max(1, names.count)) { name in
                Self.copy(name, of: archive, into: spool, logger: logger)
            }
            done.signal()
        }
    }

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

    /// Waits for the read-ahead to end.
    func finish() { done.wait() }

    private static func copy(_ name: WalFileName, of archive: WalArchive, into spool: WalSpool, logger: Logger) {
        let key = archive.key(name)
        for region in archive.repository.regions {
            do {
                let bytes = try region.store.get(key, limit: UInt64(WalObjectFraming.prefixSize + WalObjectFraming.maximumHeaderSize) + (1 << 31))
                try spool.put(key, bytes: bytes)
                return
            } catch StorageError.notFound {
                continue
            } catch {
                logger.debug("WAL read-ahead skipped a region", metadata: ["file": "\(name)", "region": "\(region.name)", "error": "\(error)"])
            }
        }
    }
}
