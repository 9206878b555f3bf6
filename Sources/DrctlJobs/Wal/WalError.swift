import DrctlPolicy
import DrctlStorage

/// Why `wal-push` or `wal-fetch` refused or failed, with what to do about it.
public enum WalError: Error, CustomStringConvertible {
    /// The target is not a physical PostgreSQL target: it has no WAL archive.
    case notPhysical(target: String)
    /// The file's name is not one PostgreSQL archives.
    case notWalFileName(String)
    /// The file could not be read.
    case unreadableFile(path: String, reason: String)
    /// The file's header does not fit its name or size.
    case notASegment(path: String, reason: String)
    /// The segment belongs to another cluster than the data directory's.
    case otherCluster(file: String, segment: UInt64, dataDirectory: UInt64)
    /// The archive holds WAL of other clusters for this target, and none of this one.
    case unknownSystem(target: String, system: UInt64, archived: [UInt64])
    /// No system identifier for a file without a page header (`.history`, `.backup`).
    case noSystemIdentifier(file: String, reason: String)
    /// WAL needs an authenticated (version 2) repository.
    case versionOneRepository
    /// A region holds another file under the same name.
    case conflict(file: String, target: String, regions: [String], archived: [String], pushed: String)
    /// Fewer than `min_regions` regions hold the file.
    case quorum(file: String, held: Int, minRegions: Int, failures: [String])
    /// The spool directory is not trusted as PGDATA is (`WalSpool`).
    case untrustedSpool(path: String, reason: String)
    /// A body written early came back shorter than written (`WalEarlyWrite`).
    case bodyNotReadBack(expected: Int, read: Int)

    /// Throws `notPhysical` unless the policy's target is a physical PostgreSQL target: the
    /// only kind with a WAL archive (what `wal-push` and `wal-fetch` both check first).
    static func requirePhysical(_ target: String, in policy: Policy) throws {
        guard let found = try policy.targets(selecting: target).first, found.kind == .postgres, found.mode == .physical else {
            throw WalError.notPhysical(target: target)
        }
    }

    public var description: String {
        switch self {
        case .notPhysical(let target):
            return "target '\(target)' is not a PostgreSQL target with mode: physical: it has no WAL archive"
        case .notWalFileName(let name):
            return "'\(name)' is not the name of a WAL file PostgreSQL archives (a segment, .partial, .backup or .history file)"
        case .unreadableFile(let path, let reason):
            return "cannot read '\(path)': \(reason)"
        case .notASegment(let path, let reason):
            return "'\(path)' is not a WAL segment: \(reason)"
        case .otherCluster(let file, let segment, let dataDirectory):
            return "refused '\(file)': it belongs to the cluster with system identifier \(segment), but this data directory's "
                + "cluster is \(dataDirectory) (global/pg_control): a segment of another cluster is never archived here"
        case .unknownSystem(let target, let system, let archived):
            return "refused: the archive of target '\(target)' holds WAL of system identifier(s) "
                + "\(archived.map(String.init).joined(separator: ", ")), not of this cluster (\(system)): another cluster is "
                + "archiving under this target's name. If this cluster is the target's new one (initdb, pg_upgrade), pass "
                + "--new-system once (docs/OPERATIONS.md, \"WAL archive\")"
        case .noSystemIdentifier(let file, let reason):
            return "cannot tell which cluster '\(file)' belongs to (it has no WAL page header): \(reason); "
                + "run wal-push in the data directory (PostgreSQL does) or pass --pgdata"
        case .versionOneRepository:
            return "the WAL archive needs a version 2 (authenticated) repository, and this one is version 1: "
                + "run `drctl repository upgrade` first"
        case .conflict(let file, let target, let regions, let archived, let pushed):
            return "WAL file '\(file)' of target '\(target)' is already archived with other contents in region(s) "
                + "\(regions.joined(separator: ", ")) (SHA-256 \(archived.joined(separator: ", "))); the server's file has "
                + "SHA-256 \(pushed). The archived copy is kept: find which cluster wrote it (docs/OPERATIONS.md, \"WAL archive\")"
        case .quorum(let file, let held, let minRegions, let failures):
            return "WAL file '\(file)' is held by \(held) region(s), and min_regions is \(minRegions): "
                + failures.joined(separator: "; ") + " (PostgreSQL keeps the file and retries)"
        case .untrustedSpool(let path, let reason):
            return "the WAL spool '\(path)' is not used: \(reason). It holds plain segments served without further checks, "
                + "so it must be a directory of the server's user alone (mode 700), as PGDATA is; WAL comes from the regions"
        case .bodyNotReadBack(let expected, let read):
            return "the WAL object's body, written before its head, read back \(read) of its \(expected) bytes"
        }
    }
}
