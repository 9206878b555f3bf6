import Foundation
import Glibc

/// Files, directories and symbolic links named by bytes that need not be UTF-8: what an
/// operator or an extension can leave in a data directory and PostgreSQL's BASE_BACKUP sends as
/// they are, but Foundation's `String` paths cannot name. `name` is relative to `directory`
/// ("a/b" as bytes, with "/" between the parts).
public enum ByteNamedFiles {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// `name` as bytes: the UTF-8 of `text` followed by `raw` (e.g. `bytes("stray-", [0xff])`).
    public static func bytes(_ text: String, _ raw: [UInt8] = []) -> [UInt8] { Array(text.utf8) + raw }

    /// Writes `contents` to a new file (mode 0600); `owner` then owns it.
    public static func write(_ contents: [UInt8], to name: [UInt8], in directory: String, owner: String? = nil) throws {
        let fd = try at(directory, name) { open($0, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
        defer { close(fd) }
        let written = contents.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == contents.count else { throw failure("write", name, in: directory) }
        try give(name, in: directory, to: owner)
    }

    /// Makes a directory (mode 0700); `owner` then owns it.
    public static func makeDirectory(_ name: [UInt8], in directory: String, owner: String? = nil) throws {
        _ = try at(directory, name) { mkdir($0, 0o700) }
        try give(name, in: directory, to: owner)
    }

    /// Makes a symbolic link `name` pointing at `target` (bytes too).
    public static func makeSymbolicLink(_ name: [UInt8], to target: [UInt8], in directory: String) throws {
        let terminated = target.map { CChar(bitPattern: $0) } + [0]
        _ = try at(directory, name) { symlink(terminated, $0) }
    }

    /// The bytes of file `name`, or nil when it cannot be opened.
    public static func read(_ name: [UInt8], in directory: String) -> [UInt8]? {
        guard let fd = try? at(directory, name, { open($0, O_RDONLY | O_CLOEXEC) }) else { return nil }
        defer { close(fd) }
        var contents: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { return count == 0 ? contents : nil }
            contents += buffer.prefix(count)
        }
    }

    /// The target of symbolic link `name`, or nil when it is none.
    public static func linkTarget(_ name: [UInt8], in directory: String) -> [UInt8]? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
        let count = path(directory, name).withUnsafeBufferPointer { readlink($0.baseAddress!, &buffer, buffer.count) }
        return count >= 0 ? buffer.prefix(count).map { UInt8(bitPattern: $0) } : nil
    }

    /// The names `directory` holds (without "." and ".."), as bytes, sorted.
    public static func names(in directory: String, _ name: [UInt8] = []) -> [[UInt8]] {
        guard let listing = path(directory, name).withUnsafeBufferPointer({ opendir($0.baseAddress!) }) else { return [] }
        defer { closedir(listing) }
        var names: [[UInt8]] = []
        while let entry = readdir(listing) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if name != [0x2e] && name != [0x2e, 0x2e] { names.append(name) }
        }
        return names.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// `directory` + "/" + `name`, NUL-terminated.
    static func path(_ directory: String, _ name: [UInt8]) -> [CChar] {
        (Array(directory.utf8) + (name.isEmpty ? [] : [0x2f] + name)).map { CChar(bitPattern: $0) } + [0]
    }

    private static func at(_ directory: String, _ name: [UInt8], _ call: (UnsafePointer<CChar>) -> Int32) throws -> Int32 {
        let result = path(directory, name).withUnsafeBufferPointer { call($0.baseAddress!) }
        guard result >= 0 else { throw failure("create", name, in: directory) }
        return result
    }

    private static func give(_ name: [UInt8], in directory: String, to owner: String?) throws {
        guard let owner else { return }
        guard let user = getpwnam(owner) else { throw Failure(description: "no OS user '\(owner)'") }
        let (uid, gid) = (user.pointee.pw_uid, user.pointee.pw_gid)
        _ = try at(directory, name) { lchown($0, uid, gid) }
    }

    private static func failure(_ operation: String, _ name: [UInt8], in directory: String) -> Failure {
        Failure(description: "cannot \(operation) \(directory)/\(name.map { String(format: "%02x", $0) }.joined()) (hex): "
            + String(cString: strerror(errno)))
    }
}
