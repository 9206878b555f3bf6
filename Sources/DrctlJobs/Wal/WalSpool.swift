import DrctlPipeline
import DrctlPolicy
import DrctlStorage
import Foundation
import Glibc
import Logging

/// Where `wal-fetch` finds the next segments ready (`--spool DIR`; `drctl restore` writes
/// `--spool PGDATA.drctl-wal-spool`, beside the restored data directory, outside it; by default
/// `<cache dir>/wal-spool`): PLAIN segments, already opened and checked by the read-ahead
/// worker (`WalSpoolWorker`) exactly as `wal-fetch` checks a region's copy, each put there under
/// a hidden name and renamed to its own once whole. Serving one is a rename into `%p`: no policy,
/// no keys, no region, no decryption on recovery's critical path (BENCHMARKS.md, "WAL fetch
/// during recovery").
///
/// So the spool is trusted as PGDATA is (docs/ARCHITECTURE.md, "WAL archive"): it must be a
/// directory of the user running `wal-fetch` (the server's) that no one else may read or write
/// (created 0700; an existing one that is not is refused: `wal-fetch` then neither serves from it
/// nor reads ahead into it). Only segments are spooled, never `.history`, `.partial` or `.backup`
/// files; and a segment is served only when its first page names this cluster, where its name
/// begins and the size it has: a file left by a restore of another cluster is removed, not
/// served. The spool is local scratch, not storage: nothing in it has to outlive a crash.
public struct WalSpool: Sendable {
    /// How the spool is named in messages and outcomes.
    public static let regionName = "spool"
    /// Absolute.
    public let directory: String
    /// How many segments after the one asked for are kept ready.
    public let depth: Int

    /// The spool at `directory` (relative: to the working directory, the server's data
    /// directory), created 0700 when absent; throws `WalError.untrustedSpool` when it is not a
    /// directory of this user's alone.
    public init(trusting directory: String, depth: Int) throws {
        let absolute = PathText.absolute(directory)
        self.directory = absolute
        self.depth = depth
        if mkdir(absolute, 0o700) != 0, errno != EEXIST {
            throw WalError.untrustedSpool(path: absolute, reason: "it cannot be created: \(Errno(errno))")
        }
        var status = stat()
        guard lstat(absolute, &status) == 0 else { throw WalError.untrustedSpool(path: absolute, reason: "\(Errno(errno))") }
        guard status.st_mode & S_IFMT == S_IFDIR else { throw WalError.untrustedSpool(path: absolute, reason: "it is not a directory") }
        guard status.st_uid == geteuid() else {
            throw WalError.untrustedSpool(path: absolute, reason: "it is owned by uid \(status.st_uid), not by uid \(geteuid()) running wal-fetch")
        }
        guard status.st_mode & 0o077 == 0 else {
            throw WalError.untrustedSpool(path: absolute, reason: "its mode is \(String(status.st_mode & 0o777, radix: 8)): "
                + "group or others may use it (chmod 700 it)")
        }
    }

    /// Where a spooled segment lives.
    func path(of name: WalFileName) -> String { "\(directory)/\(name)" }

    /// The segments in the spool, whole (renamed to their names).
    func spooled() -> [WalFileName] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).compactMap(WalFileName.init).filter { $0.kind == .segment }
    }

    /// The fast path: moves the spooled segment `name` to `destination` and returns its size;
    /// nil when the spool does not hold it (or held one that is not this cluster's segment of
    /// that name, which is removed). Throws only when `destination` cannot be written.
    public func serve(_ name: WalFileName, to destination: String, systemIdentifier: UInt64, logger: Logger) throws -> Int? {
        guard name.kind == .segment else { return nil }
        let source = path(of: name)
        let file: WalFile
        do { file = try WalFile(path: source) } catch { return nil }
        do {
            try Self.check(file, name: name, systemIdentifier: systemIdentifier)
        } catch {
            unlink(source)
            logger.warning("spooled WAL segment refused and removed", metadata: ["file": "\(name)", "error": "\(error)"])
            return nil
        }
        if rename(source, destination) != 0 {
            guard errno == EXDEV else { throw RestoreDestinationError(path: destination, operation: "rename into", code: errno) }
            // Another file system (the spool is best beside pg_wal): copied, then the spooled one removed.
            let sink = try FileSink(path: destination, replace: true, durable: false, mode: 0o600)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: WalOpener.pieceSize, alignment: 16)
            defer { buffer.deallocate() }
            do {
                try file.read(into: buffer) { try sink.write($0) }
                try sink.finish()
            } catch {
                sink.abort()
                throw error
            }
            unlink(source)
        }
        return file.size
    }

    /// The checks `wal-push` made before archiving the segment, made again on the spooled copy's
    /// first page: whose it is, where it begins, its size.
    static func check(_ file: WalFile, name: WalFileName, systemIdentifier: UInt64) throws {
        let header = try WalSegmentHeader(file.prefix)
        guard header.systemIdentifier == systemIdentifier else {
            throw WalError.otherCluster(file: name.description, segment: header.systemIdentifier, dataDirectory: systemIdentifier)
        }
        guard file.size == header.segmentSize, header.pageAddress == name.startLSN(segmentSize: header.segmentSize),
              header.timeline <= name.timeline else {
            throw WalError.notASegment(path: file.path, reason: "its size or first page does not fit its name")
        }
    }

    /// Removes the spooled segments at or before `name` (on any timeline): recovery goes
    /// forward and will not ask for them again.
    public func remove(through name: WalFileName) {
        for spooled in spooled() where (spooled.log, spooled.seg) <= (name.log, name.seg) {
            unlink(path(of: spooled))
        }
    }

    /// Removes every segment and every half-written file (a killed worker's).
    func empty() {
        removeEntries { WalFileName($0)?.kind == .segment || $0.hasPrefix(".") }
    }

    /// Removes what a killed worker left half written (hidden names).
    func removeHalfWritten() {
        removeEntries { $0.hasPrefix(".") }
    }

    private func removeEntries(where condition: (String) -> Bool) {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where condition(entry) {
            unlink("\(directory)/\(entry)")
        }
    }

    /// The worker's lock taken without waiting: its descriptor (closing it gives the lock
    /// back), nil when another process holds it.
    func tryLock() throws -> Int32? {
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw WalError.untrustedSpool(path: lockPath, reason: "\(Errno(errno))") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            return nil
        }
        return descriptor
    }

    /// Held by the one worker filling the spool (`flock`).
    var lockPath: String { "\(directory)/worker.lock" }
    /// The worker's standard output and error.
    var logPath: String { "\(directory)/worker.log" }
}
