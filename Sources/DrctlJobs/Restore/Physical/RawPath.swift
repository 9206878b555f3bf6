import Glibc

/// A path (or one name) as the file system and PostgreSQL hold it: bytes, not necessarily
/// UTF-8. BASE_BACKUP sends each file's name as its bytes, and `backup_manifest` lists a name
/// that is not UTF-8 by `Encoded-Path` (the hex of its bytes). A `String` would turn such bytes
/// into replacement characters (and compares canonically equivalent texts as equal), so the
/// restore would write, and check, another name than the backup's. Every file-system call and
/// every comparison uses `bytes`; only messages show `description`.
struct RawPath: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    let bytes: [UInt8]

    static let separator = UInt8(ascii: "/")

    init(_ bytes: some Sequence<UInt8>) { self.bytes = Array(bytes) }
    init(_ text: String) { bytes = Array(text.utf8) }
    init(stringLiteral text: String) { self.init(text) }

    /// The names between the separators (empty ones dropped, as the file system does).
    var components: [RawPath] { bytes.split(separator: Self.separator).map(RawPath.init) }

    var isAbsolute: Bool { bytes.first == Self.separator }

    /// `self` + "/" + `name` (just `name` when `self` is empty).
    func appending(_ name: RawPath) -> RawPath {
        bytes.isEmpty ? name : RawPath(bytes + [Self.separator] + name.bytes)
    }

    /// Whether `self` is `ancestor` or a path below it.
    func isWithin(_ ancestor: RawPath) -> Bool {
        bytes == ancestor.bytes || bytes.starts(with: ancestor.bytes + [Self.separator])
    }

    /// The names the directory at `self` holds (not "." nor ".."), as the file system has them;
    /// nil when it cannot be read (`errno` says why).
    func directoryEntries() -> [RawPath]? {
        guard let listing = withCString({ opendir($0) }) else { return nil }
        defer { closedir(listing) }
        var names: [RawPath] = []
        errno = 0
        while let entry = readdir(listing) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { RawPath($0.prefix { $0 != 0 }) }
            if name != "." && name != ".." { names.append(name) }
        }
        return errno == 0 ? names : nil
    }

    /// Calls `body` with the bytes NUL-terminated, for the file-system calls.
    func withCString<Result>(_ body: (UnsafePointer<CChar>) throws -> Result) rethrows -> Result {
        try (bytes + [0]).withUnsafeBufferPointer { buffer in
            try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
        }
    }

    /// The path for a person: its UTF-8 text, with each byte that is not part of valid UTF-8,
    /// each control character and each backslash written as `\xNN` (so "stray-\xff\xfe" names
    /// exactly one sequence of bytes, and a name cannot break a log line).
    var description: String {
        var text = ""
        var index = 0
        while index < bytes.count {
            let lead = bytes[index]
            let length = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2
            if lead >= 0x20, lead != 0x7f, lead != UInt8(ascii: "\\"), index + length <= bytes.count,
               let character = String(validating: bytes[index..<(index + length)], as: UTF8.self) {
                text += character
                index += length
            } else {
                text += "\\x" + (lead < 0x10 ? "0" : "") + String(lead, radix: 16)
                index += 1
            }
        }
        return text
    }

    static func < (lhs: RawPath, rhs: RawPath) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }
}
