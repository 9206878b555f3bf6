import Foundation
import Glibc
import DrctlSources

/// The directories a physical restore writes: the new data directory and each tablespace's,
/// checked before anything is written, then handed to the server's user.
struct DataDirectory {
    let path: String
    /// Tablespace OID → the directory it is restored into (`--tablespace-map` applied).
    let tablespaces: [UInt32: String]
    /// The OS user the server runs as, when drctl runs as root (the files must be theirs).
    let owner: String?

    /// Refuses a non-empty data or tablespace directory (before anything is written); with
    /// `force`, empties them instead.
    func prepare(force: Bool) throws {
        if !Self.isEmptyOrAbsent(path) {
            guard force else { throw PhysicalRestoreError.dataDirectoryNotEmpty(path) }
            try Self.empty(path)
        }
        for directory in tablespaces.values.sorted() where !Self.isEmptyOrAbsent(directory) {
            guard force else { throw PhysicalRestoreError.tablespaceDirectoryNotEmpty(directory) }
            try Self.empty(directory)
        }
        for directory in [path] + tablespaces.values.sorted() {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            chmod(directory, 0o700)
        }
    }

    /// `pg_tblspc/<oid>` → each tablespace's directory (the links `TABLESPACE_MAP` left out of
    /// base.tar), then every file to the server's user and the data directory to mode 0700
    /// (PostgreSQL refuses to start on a group- or world-readable one).
    func finish() throws {
        let links = "\(path)/pg_tblspc"
        try FileManager.default.createDirectory(atPath: links, withIntermediateDirectories: true)
        for (oid, directory) in tablespaces {
            let link = "\(links)/\(oid)"
            unlink(link)
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: directory)
        }
        if let owner { try Self.give([path] + tablespaces.values.sorted(), to: owner, recursive: true) }
        chmod(path, 0o700)
    }

    /// Makes `owner` (and its group) own each of `paths` (with `recursive`, all below them too).
    static func give(_ paths: [String], to owner: String, recursive: Bool = false) throws {
        for path in paths {
            let done = try ChildProcess.run(["chown"] + (recursive ? ["-R"] : []) + ["\(owner):", path], environment: .minimal())
            guard done.exit.succeeded else {
                throw PhysicalRestoreError.cannotPrepare(path: path, reason: "chown to \(owner) \(done.exit): \(done.stderr)")
            }
        }
    }

    static func isEmptyOrAbsent(_ path: String) -> Bool {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: path) else {
            return !FileManager.default.fileExists(atPath: path)
        }
        return entries.isEmpty
    }

    private static func empty(_ path: String) throws {
        for entry in try FileManager.default.contentsOfDirectory(atPath: path) {
            try FileManager.default.removeItem(atPath: "\(path)/\(entry)")
        }
    }
}
