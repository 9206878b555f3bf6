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

    /// Makes every file and directory of the restore durable: each fsynced, directories after
    /// what they hold (as PostgreSQL's own start-up sync, recovery_init_sync_method = fsync,
    /// does), then the directories that hold the data and tablespace directories. The extraction
    /// (`TarExtractor`) writes through the page cache; a restore that reports success must not lose files to a power
    /// failure. Symbolic links (pg_tblspc) are not followed: each tablespace's directory is
    /// walked itself.
    func sync() throws {
        for top in [path] + tablespaces.values.sorted() {
            try Self.walk(below: RawPath(top), failure: Self.notDurable) { item, kind in
                if kind == S_IFREG || kind == S_IFDIR { try Self.fsync(item, flags: O_RDONLY | (kind == S_IFDIR ? O_DIRECTORY : 0)) }
            }
            for directory in [top, URL(fileURLWithPath: top).deletingLastPathComponent().path] {
                try Self.fsync(RawPath(directory), flags: O_RDONLY | O_DIRECTORY)
            }
        }
    }

    /// Everything below `directory`, depth first: `visit` gets each path and its kind
    /// (`S_IFREG`, `S_IFDIR`, …; symbolic links are not followed), a directory after what it
    /// holds. Names are walked as bytes, so those that are not UTF-8 too.
    private static func walk(below directory: RawPath, failure: (RawPath) -> PhysicalRestoreError,
                             _ visit: (RawPath, mode_t) throws -> Void) throws {
        guard let names = directory.directoryEntries() else { throw failure(directory) }
        for name in names {
            let item = directory.appending(name)
            var info = stat()
            guard item.withCString({ lstat($0, &info) }) == 0 else { throw failure(item) }
            let kind = info.st_mode & S_IFMT
            if kind == S_IFDIR { try walk(below: item, failure: failure, visit) }
            try visit(item, kind)
        }
    }

    private static func fsync(_ path: RawPath, flags: Int32) throws {
        let fd = path.withCString { open($0, flags | O_CLOEXEC) }
        guard fd >= 0 else { throw notDurable(path) }
        defer { close(fd) }
        guard Glibc.fsync(fd) == 0 else { throw notDurable(path) }
    }

    private static func notDurable(_ path: RawPath) -> PhysicalRestoreError {
        .cannotPrepare(path: path.description, reason: "cannot write it to disk (fsync: \(String(cString: strerror(errno))))")
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

    /// Whether `path` holds nothing (names that are not UTF-8 count too) or does not exist.
    static func isEmptyOrAbsent(_ path: String) -> Bool {
        guard let entries = RawPath(path).directoryEntries() else { return !FileManager.default.fileExists(atPath: path) }
        return entries.isEmpty
    }

    /// Removes everything `directory` holds (symbolic links not followed).
    private static func empty(_ directory: String) throws {
        try walk(below: RawPath(directory), failure: notRemovable) { item, kind in
            guard item.withCString({ kind == S_IFDIR ? rmdir($0) : unlink($0) }) == 0 else { throw notRemovable(item) }
        }
    }

    private static func notRemovable(_ path: RawPath) -> PhysicalRestoreError {
        .cannotPrepare(path: path.description, reason: "--force cannot remove it (\(String(cString: strerror(errno))))")
    }
}
