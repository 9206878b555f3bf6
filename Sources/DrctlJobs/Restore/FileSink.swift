import DrctlPipeline
import Foundation
import Glibc

/// Restores into a file: written beside it under a hidden temporary name, fsynced, then put
/// in place in one step, so a failed restore never leaves a half-written file at `path`.
/// Without `replace` an existing file is never touched. Created `mode` less the umask: 0600 by
/// default, since a restored backup holds the data it protected.
///
/// A scratch file (`durable: false`: the archive `restore --jobs` stages for pg_restore and
/// removes after it, or any restore with `--no-sync`) skips the syncs: a crash means restoring
/// again, and pg_restore reads it back from the page cache.
final class FileSink: ByteSink {
    let path: String
    let replace: Bool
    /// Where the bytes go until `finish` puts them at `path`.
    let temporary: String
    private var fd: Int32
    /// May change the written file before it is put in place (the staged archive's offsets).
    var beforePlacing: ((Int32) throws -> Void)?

    init(path: String, replace: Bool, durable: Bool = true, mode: mode_t = 0o600) throws {
        self.path = path
        self.replace = replace
        let temporaries = Self.temporaries(of: path)
        temporary = "\(temporaries.directory)/\(temporaries.prefix)\(UInt32.random(in: 0...UInt32.max))"
        if !replace && access(path, F_OK) == 0 { throw JobError.destinationExists(path) }
        fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw RestoreDestinationError(path: path, operation: "create", code: errno) }
        writeBehind = durable ? WriteBehind(fd: fd) : nil
    }

    /// nil for a scratch file: no syncs.
    private let writeBehind: WriteBehind?

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        if let error = FileDescriptorIO.writeAll(fd, bytes) {
            throw RestoreDestinationError(path: path, operation: "write", code: error.code)
        }
        writeBehind?.wrote(bytes.count)
    }

    func finish() throws {
        try beforePlacing?(fd)
        if let error = writeBehind?.syncFile() {
            throw RestoreDestinationError(path: path, operation: "sync", code: error.code)
        }
        close(fd)
        fd = -1
        if replace {
            guard rename(temporary, path) == 0 else { throw RestoreDestinationError(path: path, operation: "rename into", code: errno) }
        } else {
            // link(2) refuses to replace a file that appeared meanwhile.
            guard link(temporary, path) == 0 else {
                if errno == EEXIST { throw JobError.destinationExists(path) }
                throw RestoreDestinationError(path: path, operation: "create", code: errno)
            }
            unlink(temporary)
        }
    }

    func abort() {
        writeBehind?.cancel()
        if fd >= 0 {
            close(fd)
            fd = -1
        }
        unlink(temporary)
    }

    deinit { abort() }
}

extension FileSink {
    /// Where sinks for `path` write before `finish`: `path`'s directory, and the start of their
    /// hidden names (`.NAME.drctl-partial-`, then a random decimal number).
    static func temporaries(of path: String) -> (directory: String, prefix: String) {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        return (directory, ".\(name).drctl-partial-")
    }

    /// Removes the hidden files sinks for `path` were writing when their process was killed
    /// (SIGKILL: no `abort` ran), and nothing else: only names `.NAME.drctl-partial-` and
    /// digits, in `path`'s directory. Right only where no other process can be writing `path`
    /// at the same time (a sink in progress would lose its file).
    static func removeLeftovers(of path: String) {
        let (directory, prefix) = temporaries(of: path)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "/" : directory) else { return }
        for entry in entries where entry.hasPrefix(prefix) {
            let suffix = entry.utf8.dropFirst(prefix.utf8.count)
            guard !suffix.isEmpty, suffix.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { continue }
            unlink("\(directory)/\(entry)")
        }
    }

    /// Puts `bytes` at `path` whole or not at all: written beside it, then renamed over it.
    static func place(_ bytes: [UInt8], at path: String, durable: Bool = true, mode: mode_t) throws {
        let sink = try FileSink(path: path, replace: true, durable: durable, mode: mode)
        do {
            try bytes.withUnsafeBytes { try sink.write($0) }
            try sink.finish()
        } catch {
            sink.abort()
            throw error
        }
    }
}

/// Restores to standard output (`--to -`), for piping into another program.
final class StandardOutputSink: ByteSink {
    /// Bytes handed to the consumer: once there are any, another region cannot start over.
    private(set) var bytesWritten: UInt64 = 0

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        bytesWritten += UInt64(bytes.count)
        if let error = FileDescriptorIO.writeAll(1, bytes) {
            throw RestoreDestinationError(path: "standard output", operation: "write", code: error.code)
        }
    }

    func finish() throws {}
    func abort() {}
}

/// The restore's destination failed (full disk, permissions): trying another region would
/// not help.
public struct RestoreDestinationError: Error, CustomStringConvertible {
    public let path: String
    public let operation: String
    public let code: Int32

    public var description: String {
        if code == ENOSPC { return "no space left on the device holding \(path)" }
        return "cannot \(operation) \(path): \(String(cString: strerror(code)))"
    }
}
