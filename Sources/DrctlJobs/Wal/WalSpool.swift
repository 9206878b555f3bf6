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

    /// Keeps the object `reader` gives (as a region stores it) under `key`, read and written in
    /// pieces, without the fsyncs of a region's write: nothing spooled has to outlive a crash (a
    /// file that is cut or missing is refused or absent, and fetched from the regions again),
    /// and `wal-fetch`, on recovery's critical path, waits for its read-ahead before it exits.
    func put(_ key: String, from reader: ObjectReader) throws {
        let path = "\(directory)/\(key)"   // a key of the archive's layout (`WalArchive.key`)
        try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path,
                                                withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let sink = try FileSink(path: path, replace: true, durable: false, mode: 0o600)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: WalOpener.pieceSize, alignment: 16)
        defer { buffer.deallocate() }
        do {
            while true {
                let count = try reader.read(into: buffer)
                if count == 0 { break }
                try sink.write(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            }
            try reader.finish()
            try sink.finish()
        } catch {
            sink.abort()
            throw error
        }
    }

    /// Puts the file read ahead by an earlier run at `destination`, opened and checked, and
    /// returns its size; nil (and nothing at `destination`) when there is none or it does not
    /// authenticate. Removed either way. Throws only when `destination` cannot be written.
    func take(_ name: WalFileName, opener: WalOpener, to destination: String, logger: Logger) throws -> Int? {
        let region = self.region
        let key = opener.archive.key(name)
        guard (try? region.store.stat(key)) != nil else { return nil }
        defer { try? region.store.delete(key) }
        do {
            return try opener.open(name, in: region, to: destination)
        } catch WalOpener.Failure.destination(let error) {
            throw error
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

    /// Whether reading ahead can save recovery any time: not when the first region, the one
    /// that serves while it is healthy, is a local directory. Copying its objects into the
    /// spool only to read them again costs CPU on the critical path (BENCHMARKS.md, "WAL fetch
    /// during recovery": ~10 ms a segment) to hide a latency it does not have.
    static func worthwhile(from repository: Repository) -> Bool {
        !(repository.regions.first?.store is LocalDirectoryStore)
    }

    init(spool: WalSpool, archive: WalArchive, after name: WalFileName, logger: Logger) {
        let region = spool.region
        let done = self.done
        Thread.detachNewThread {
            // Files older than the one asked for will not be asked for again (recovery goes
            // forward). Removed here, beside the fetch of the one asked for, not before it.
            for object in (try? region.store.list(prefix: WalLayout.targetPrefix(archive.target))) ?? [] {
                if let file = WalLayout.parse(object.key)?.file, file.timeline == name.timeline, !file.isHistory, file < name {
                    try? region.store.delete(object.key)
                }
            }
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

    /// The longest object read ahead: a header and a 2 GiB body.
    private static let largestObject = UInt64(WalObjectFraming.prefixSize + WalObjectFraming.maximumHeaderSize) + (1 << 31)

    private static func copy(_ name: WalFileName, of archive: WalArchive, into spool: WalSpool, logger: Logger) {
        let key = archive.key(name)
        for region in archive.repository.regions {
            do {
                let reader = try region.store.open(key)
                do {
                    // Nothing a segment could need: a planted giant does not fill the spool's disk.
                    guard reader.size <= largestObject else { throw WalObjectError.malformed("it is \(reader.size) bytes long") }
                    try spool.put(key, from: reader)
                } catch {
                    reader.cancel()
                    throw error
                }
                return
            } catch StorageError.notFound {
                continue
            } catch {
                logger.debug("WAL read-ahead skipped a region", metadata: ["file": "\(name)", "region": "\(region.name)", "error": "\(error)"])
            }
        }
    }
}
