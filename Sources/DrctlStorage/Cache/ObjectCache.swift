import Foundation
import Synchronization
import DrctlCrypto

/// The host's copy of write-once objects it has read from S3 (manifests, records), so that a
/// repeat `check`, `list` or `report` reads only what is new since the last LIST.
///
/// An entry is the object's stored BYTES, never a decoded result: a cached manifest goes through
/// exactly the decoding and readers' rules a fresh read does. It is found by the store's
/// location, the key, and the size and ETag the LIST gave; its file holds a SHA-256 of the bytes,
/// so a damaged entry is read again from the store. A listing drops the entries under its prefix
/// that it no longer shows. Losing the cache, or failing to write it, only costs time: a write
/// that fails warns once and the command goes on.
///
/// Manifests carry wrapped data keys and database names: the directories are 0700, files 0600.
/// Layout: `<directory>/<sha256(location), 32 hex>/<key>`; an entry's file is the line
/// `drctl-cache-1 <size> <sha256 hex> <etag>` then the bytes. Files are written to a dot-named
/// temporary file and renamed into place.
public final class ObjectCache: Sendable {
    public let directory: String
    private let warning: @Sendable (String) -> Void
    private let warned = Mutex(false)

    static let magic = "drctl-cache-1"

    public init(directory: String, warning: @escaping @Sendable (String) -> Void) {
        self.directory = directory
        self.warning = warning
    }

    /// Where the cache is: `commandLine` (`--cache-dir`), else `$DRCTL_CACHE_DIR`, else
    /// `policy` (`repository.cache_dir`), else `/var/cache/drctl` for root, else
    /// `$XDG_CACHE_HOME/drctl`, else `~/.cache/drctl`; nil (no cache) when the first of those
    /// given is empty or `off`, or none can be named.
    public static func directory(commandLine: String? = nil, policy: String? = nil,
                                 environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let chosen = commandLine ?? environment["DRCTL_CACHE_DIR"] ?? policy {
            return chosen.isEmpty || chosen == "off" ? nil : chosen
        }
        if geteuid() == 0 { return "/var/cache/drctl" }
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return xdg + "/drctl" }
        if let home = environment["HOME"], home.hasPrefix("/") { return home + "/.cache/drctl" }
        return nil
    }

    /// The cached bytes of `object` as listed in the store at `location`, or nil: none kept, or
    /// kept for another size or ETag, or damaged.
    public func bytes(of object: ObjectInfo, at location: String) -> [UInt8]? {
        guard let etag = object.etag,
              let data = FileManager.default.contents(atPath: path(of: object.key, at: location)),
              let newline = data.firstIndex(of: 0x0a) else { return nil }
        let header = String(decoding: data[data.startIndex..<newline], as: UTF8.self)
        let fields = header.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count == 4, fields[0] == Self.magic, fields[1] == String(object.size), fields[3] == etag else {
            return nil
        }
        let bytes = [UInt8](data[(newline + 1)...])
        guard bytes.count == object.size, hex(sha256(bytes)) == fields[2] else { return nil }
        return bytes
    }

    /// Keeps `bytes`, just read for `object`. Objects without an ETag (local directories, whose
    /// reads cost what the cache's would) are not kept.
    public func keep(_ bytes: [UInt8], of object: ObjectInfo, at location: String) {
        guard let etag = object.etag, !etag.contains("\n"), bytes.count == object.size else { return }
        let target = path(of: object.key, at: location)
        let folder = (target as NSString).deletingLastPathComponent
        let temporary = folder + "/.tmp-\(UUID().uuidString)"
        let entry = Array("\(Self.magic) \(object.size) \(hex(sha256(bytes))) \(etag)\n".utf8) + bytes
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw CacheWriteError() }
            defer { close(descriptor) }
            var written = 0
            while written < entry.count {
                let count = entry.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, entry.count - written) }
                guard count > 0 else { throw CacheWriteError() }
                written += count
            }
            guard rename(temporary, target) == 0 else { throw CacheWriteError() }
        } catch {
            unlink(temporary)
            warnOnce("cannot write the read cache in '\(directory)' (\(error)); reads go to the store each time")
        }
    }

    /// Drops the entries under `prefix` (a folder: it ends in `/`) for keys the store's listing
    /// no longer shows, and temporary files a crashed writer left an hour ago or more.
    public func forget(allBut listed: [ObjectInfo], under prefix: String, at location: String) {
        guard prefix.hasSuffix("/") else { return }
        let root = regionDirectory(location)
        let folder = root + "/" + prefix
        guard let found = FileManager.default.enumerator(atPath: folder) else { return }
        let kept = Set(listed.map(\.key))
        let staleTemporary = Date().addingTimeInterval(-3600)
        while let relative = found.nextObject() as? String {
            let path = folder + relative
            guard found.fileAttributes?[.type] as? FileAttributeType == .typeRegular else { continue }
            let name = (relative as NSString).lastPathComponent
            if name.hasPrefix(".") {
                let modified = found.fileAttributes?[.modificationDate] as? Date ?? .distantFuture
                if modified < staleTemporary { unlink(path) }
            } else if !kept.contains(prefix + relative) {
                unlink(path)
            }
        }
    }

    func path(of key: String, at location: String) -> String {
        regionDirectory(location) + "/" + key
    }

    private func regionDirectory(_ location: String) -> String {
        directory + "/" + String(hex(sha256(Array(location.utf8))).prefix(32))
    }

    private func warnOnce(_ message: String) {
        let first = warned.withLock { warned in
            defer { warned = true }
            return !warned
        }
        if first { warning(message) }
    }
}

/// Why an entry could not be written: the last system call's error.
struct CacheWriteError: Error, CustomStringConvertible {
    let description = String(cString: strerror(errno))
}
