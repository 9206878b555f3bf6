import DrctlCrypto
import DrctlPipeline
import Foundation
import Glibc

/// Extracts one archive of PostgreSQL's `BASE_BACKUP` into a directory, in-process, and hashes
/// each regular file with SHA-256 as its bytes pass (`RestoredFiles`, checked against
/// `backup_manifest` by `BackupManifestCheck`): no `tar` process to pipe every byte through, no
/// second read of the files to verify them.
///
/// The server writes POSIX ustar (src/port/tar.c `tarCreateHeader`): regular files,
/// directories and symbolic links, names of at most 99 bytes in the name field, octal fields;
/// then two zero blocks. Anything else (hard links, devices, pax or GNU long-name headers) is
/// refused by name. So are names that would leave the directory (absolute, `..`) and any entry
/// below a symbolic link the archive itself made. Names and link targets stay the header's
/// bytes (`RawPath`) through every check and file-system call: a file whose name is not UTF-8
/// is written under exactly that name, as GNU tar would. The directory starts empty: every file is
/// created with O_EXCL, a name that appears twice is refused. Modes come from the headers, the
/// owner never does (the restore hands everything to the server's user afterwards).
///
/// It runs on the pipeline's sink thread: decryption and decompression run on their own
/// threads before it, so the hash and the writes use the second core.
final class TarExtractor: ByteSink {
    /// The directory the archive is extracted into (it exists).
    let root: RawPath
    /// The stored object, for messages ("base.tar", "16385.tar").
    let archive: String
    /// What `backup_manifest` puts before this archive's names: "" for base.tar,
    /// "pg_tblspc/<oid>/" for a tablespace's.
    let manifestPrefix: String
    private let files: RestoredFiles

    private static let block = 512
    private var header = [UInt8](repeating: 0, count: TarExtractor.block)
    private var headerFill = 0
    private var current: OpenFile?
    /// Bytes after the current member up to the next 512-byte boundary.
    private var padding = 0
    /// The end-of-archive block was seen: only zero bytes may follow.
    private var ended = false
    /// What this extractor made, in order: removed by `abort` (another region's copy is then
    /// extracted into the same, again empty, directory).
    private var created: [(path: RawPath, isDirectory: Bool)] = []
    private var directories: Set<RawPath> = [""]
    private var symlinks: Set<RawPath> = []
    private var extracted: [RestoredFiles.File] = []

    private struct OpenFile {
        let fd: Int32
        let name: RawPath
        let path: RawPath
        let size: UInt64
        var remaining: UInt64
        let digest = SHA256Digest()
    }

    init(root: String, archive: String, manifestPrefix: String, into files: RestoredFiles) {
        self.root = RawPath(root)
        self.archive = archive
        self.manifestPrefix = manifestPrefix
        self.files = files
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            if current != nil {
                offset += try writeFileBytes(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
            } else if padding > 0 {
                let skipped = min(padding, bytes.count - offset)
                padding -= skipped
                offset += skipped
            } else if ended {
                guard UnsafeRawBufferPointer(rebasing: bytes[offset...]).allSatisfy({ $0 == 0 }) else {
                    throw refused("", "bytes follow the end-of-archive blocks")
                }
                offset = bytes.count
            } else {
                let taken = min(Self.block - headerFill, bytes.count - offset)
                header.withUnsafeMutableBytes { target in
                    UnsafeMutableRawBufferPointer(rebasing: target[headerFill..<(headerFill + taken)])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + taken)]))
                }
                headerFill += taken
                offset += taken
                if headerFill == Self.block {
                    headerFill = 0
                    try member(header)
                }
            }
        }
    }

    func finish() throws {
        guard current == nil, padding == 0, headerFill == 0 else {
            throw refused(current?.name ?? "", "the archive ends inside a member")
        }
        files.add(extracted, archive: archive)
    }

    func abort() {
        if let current {
            close(current.fd)
            self.current = nil
        }
        for item in created.reversed() {
            _ = item.path.withCString { item.isDirectory ? rmdir($0) : unlink($0) }
        }
        created = []
    }

    // MARK: Members

    private func writeFileBytes(_ bytes: UnsafeRawBufferPointer) throws -> Int {
        guard var file = current else { return 0 }
        let count = Int(min(UInt64(bytes.count), file.remaining))
        let piece = UnsafeRawBufferPointer(rebasing: bytes[..<count])
        file.digest.update(piece)
        if let error = FileDescriptorIO.writeAll(file.fd, piece) {
            throw RestoreDestinationError(path: file.path.description, operation: "write", code: error.code)
        }
        file.remaining -= UInt64(count)
        current = file
        if file.remaining == 0 { try closeCurrent() }
        return count
    }

    private func closeCurrent() throws {
        guard let file = current else { return }
        current = nil
        padding = Int((Self.block - Int(file.size % UInt64(Self.block))) % Self.block)
        guard close(file.fd) == 0 else { throw RestoreDestinationError(path: file.path.description, operation: "write", code: errno) }
        extracted.append(RestoredFiles.File(path: RawPath(manifestPrefix.utf8 + file.name.bytes), size: file.size,
                                            sha256: file.digest.finalizeHex()))
    }

    private func member(_ header: [UInt8]) throws {
        if header.allSatisfy({ $0 == 0 }) {
            ended = true
            return
        }
        let entry = try TarHeader(header, archive: archive)
        let name = try safeName(entry.name)
        let path = root.appending(name)
        try makeParents(of: name)
        switch entry.type {
        case .file:
            let fd = path.withCString { open($0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, entry.mode) }
            guard fd >= 0 else {
                if errno == EEXIST { throw refused(entry.name, "it appears twice in the archive") }
                throw RestoreDestinationError(path: path.description, operation: "create", code: errno)
            }
            created.append((path, false))
            fchmod(fd, entry.mode)   // the header's mode, not the umask's
            current = OpenFile(fd: fd, name: name, path: path, size: entry.size, remaining: entry.size)
            if entry.size == 0 { try closeCurrent() }
        case .directory:
            try makeDirectory(name, mode: entry.mode)
            _ = path.withCString { chmod($0, entry.mode) }
        case .symbolicLink(let target):
            guard target.withCString({ target in path.withCString { symlink(target, $0) } }) == 0 else {
                if errno == EEXIST { throw refused(entry.name, "it appears twice in the archive") }
                throw RestoreDestinationError(path: path.description, operation: "create the symbolic link", code: errno)
            }
            created.append((path, false))
            symlinks.insert(name)
        }
    }

    /// The member's name relative to `root`: "." components dropped; absolute names, `..` and
    /// names below a symbolic link this archive made are refused.
    private func safeName(_ raw: RawPath) throws -> RawPath {
        guard !raw.isAbsolute else { throw refused(raw, "an absolute name would be written outside the data directory") }
        let parts = raw.components.filter { $0 != "." }
        guard !parts.contains("..") else { throw refused(raw, "a name with '..' would be written outside the data directory") }
        guard !parts.isEmpty else { throw refused(raw, "the member has no name") }
        var prefix: RawPath = ""
        for part in parts.dropLast() {
            prefix = prefix.appending(part)
            if symlinks.contains(prefix) {
                throw refused(raw, "it would be written through the symbolic link '\(prefix)' the archive made")
            }
        }
        return parts.reduce("") { $0.appending($1) }
    }

    /// Directories a member's name needs that the archive did not list first (mode 0700, as
    /// PostgreSQL makes its own).
    private func makeParents(of name: RawPath) throws {
        var prefix: RawPath = ""
        for part in name.components.dropLast() {
            prefix = prefix.appending(part)
            if !directories.contains(prefix) { try makeDirectory(prefix, mode: 0o700) }
        }
    }

    private func makeDirectory(_ name: RawPath, mode: mode_t) throws {
        let path = root.appending(name)
        if path.withCString({ mkdir($0, mode) }) == 0 {
            created.append((path, true))
        } else {
            let code = errno
            var info = stat()
            guard code == EEXIST, path.withCString({ lstat($0, &info) }) == 0 else {
                throw RestoreDestinationError(path: path.description, operation: "create the directory", code: code)
            }
            guard info.st_mode & S_IFMT == S_IFDIR else { throw refused(name, "it is a directory and also another kind of member") }
        }
        directories.insert(name)
    }

    private func refused(_ name: RawPath, _ reason: String) -> PhysicalRestoreError {
        .archiveRefused(archive: archive, member: name.description, reason: reason)
    }
}

/// One 512-byte ustar header, as `TarExtractor` accepts it.
struct TarHeader {
    enum Kind: Equatable {
        case file, directory
        case symbolicLink(RawPath)
    }

    let name: RawPath
    let type: Kind
    let mode: mode_t
    let size: UInt64

    init(_ bytes: [UInt8], archive: String) throws {
        let rawName = Self.nameField(bytes[0..<100])
        func refuse(_ reason: String) -> PhysicalRestoreError {
            .archiveRefused(archive: archive, member: rawName.description, reason: reason)
        }
        let posix = bytes[257..<265].elementsEqual(Array("ustar\u{0}00".utf8))
        let gnu = bytes[257..<265].elementsEqual(Array("ustar  \u{0}".utf8))
        guard posix || gnu else { throw refuse("the header is not a ustar header (the stream is not a tar archive PostgreSQL wrote)") }
        guard let recorded = Self.number(bytes[148..<156]),
              recorded == bytes.enumerated().reduce(0, { $0 + UInt64((148..<156).contains($1.offset) ? 0x20 : $1.element) }) else {
            throw refuse("the header's checksum does not match its bytes")
        }
        let prefix = posix ? Self.nameField(bytes[345..<500]) : ""
        name = prefix.appending(rawName)
        guard let mode = Self.number(bytes[100..<108]), let size = Self.number(bytes[124..<136]) else {
            throw refuse("the header's mode or size is not a number")
        }
        self.mode = mode_t(mode & 0o777)
        self.size = size
        switch bytes[156] {
        case UInt8(ascii: "0"), 0: type = .file
        case UInt8(ascii: "5"): type = .directory
        case UInt8(ascii: "2"): type = .symbolicLink(Self.nameField(bytes[157..<257]))
        case UInt8(ascii: "1"): throw refuse("hard links are not in PostgreSQL's base backups")
        case UInt8(ascii: "x"), UInt8(ascii: "g"): throw refuse("pax extended headers are not in PostgreSQL's base backups")
        case UInt8(ascii: "L"), UInt8(ascii: "K"): throw refuse("GNU long names are not in PostgreSQL's base backups")
        case let other: throw refuse("members of type '\(Character(Unicode.Scalar(other)))' (not a file, directory or symbolic link) are not in PostgreSQL's base backups")
        }
        if type != .file && size != 0 { throw refuse("a directory or symbolic link with a size") }
    }

    /// A NUL-terminated name field, as its bytes.
    private static func nameField(_ field: ArraySlice<UInt8>) -> RawPath {
        RawPath(field.prefix { $0 != 0 })
    }

    /// An octal field (NUL- or space-terminated), or the base-256 form of large sizes.
    private static func number(_ field: ArraySlice<UInt8>) -> UInt64? {
        if let first = field.first, first & 0x80 != 0 {
            return field.dropFirst().reduce(UInt64(first & 0x7f)) { $0 << 8 | UInt64($1) }
        }
        let digits = field.drop { $0 == 0x20 }.prefix { $0 != 0 && $0 != 0x20 }
        guard !digits.isEmpty else { return 0 }
        return UInt64(String(decoding: digits, as: UTF8.self), radix: 8)
    }
}
