import Foundation
import Glibc

/// The hidden temporary files (`.<name>.tmp-<hex>`) of writes that never committed: a crash or a
/// kill between `create` and `commit` leaves one behind.
extension LocalDirectoryStore: StrayCleaning {
    public func strays(under prefix: String) throws -> [Stray] {
        let start = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        var found: [Stray] = []
        try collectStrays(start, into: &found)
        return found.sorted { $0.key < $1.key }
    }

    public func remove(_ stray: Stray) throws {
        guard stray.kind == .temporaryFile, stray.key.split(separator: "/").last?.hasPrefix(".") == true,
              !stray.key.split(separator: "/").contains("..") else {
            throw StorageError.invalidKey(stray.key)
        }
        if unlink("\(root)/\(stray.key)") != 0 && errno != ENOENT { throw failure("remove the temporary file", stray.key) }
    }

    private func collectStrays(_ relative: String, into found: inout [Stray]) throws {
        let directory = relative.isEmpty ? root : "\(root)/\(relative)"
        guard let handle = opendir(directory) else {
            if errno == ENOENT || errno == ENOTDIR { return }
            throw failure("list", relative)
        }
        defer { closedir(handle) }
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            let key = relative.isEmpty ? name : "\(relative)/\(name)"
            var info = Glibc.stat()
            guard lstat("\(root)/\(key)", &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR where !name.hasPrefix("."):
                try collectStrays(key, into: &found)
            case S_IFREG where name.hasPrefix(".") && name.contains(".tmp-"):
                let modified = Date(timeIntervalSince1970: Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
                found.append(Stray(kind: .temporaryFile, key: key, since: modified))
            default:
                continue
            }
        }
    }
}
