import Foundation
import Glibc

/// Watches every process below a root (drctl) and below the extra roots `extraRoots` names
/// (servers that were detached from it, such as a drill's scratch postmaster), reading each
/// one's `/proc/PID/cmdline` and `/proc/PID/environ` again and again on a thread of its own
/// until `stop()`. After reading a process it creates `<seen>/<pid>`, so a wrapper script can
/// hold a short-lived program until it has been read (`SecretExposureTests`).
///
/// A child that still runs the root's program is not read: between posix_spawn's clone and
/// the exec it shares the root's memory, so its environ is the root's own.
final class DescendantSampler: @unchecked Sendable {
    /// One process as read once.
    struct Sample: Hashable {
        let pid: pid_t
        /// The argv, NULs turned into spaces.
        let cmdline: String
        /// The cmdlines of its ancestors, from the root's child down to its parent.
        let lineage: [String]
        /// `NAME=value` entries.
        let environment: [String]
        /// True for an extra root (a detached server) and everything below it.
        let detached: Bool
    }

    let seen: String
    private let root: pid_t
    /// The root's program (`/proc/PID/exe`).
    private let rootImage: String?
    private let extraRoots: () -> [pid_t]
    private let lock = NSLock()
    private var collected = Set<Sample>()
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)

    init(root: pid_t, seen: String, extraRoots: @escaping () -> [pid_t] = { [] }) throws {
        self.root = root
        rootImage = Self.image(of: root)
        self.seen = seen
        self.extraRoots = extraRoots
        // Marks of an earlier run would let a program whose pid was reused pass unread.
        try? FileManager.default.removeItem(atPath: seen)
        try FileManager.default.createDirectory(atPath: seen, withIntermediateDirectories: true)
        Thread.detachNewThread { [self] in
            var marked = Set<pid_t>()
            while !lock.withLock({ stopping }) {
                let found = sampleOnce()
                lock.withLock { collected.formUnion(found) }
                for sample in found where !marked.contains(sample.pid) {
                    marked.insert(sample.pid)
                    _ = FileManager.default.createFile(atPath: "\(self.seen)/\(sample.pid)", contents: nil)
                }
                usleep(2_000)
            }
            finished.signal()
        }
    }

    /// Stops sampling; returns every distinct sample taken.
    func stop() -> [Sample] {
        lock.withLock { stopping = true }
        finished.wait()
        return lock.withLock { Array(collected) }
    }

    private func sampleOnce() -> Set<Sample> {
        var children: [pid_t: [pid_t]] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(entry), let stat = Self.read("/proc/\(pid)/stat"),
                  let close = stat.lastIndex(of: UInt8(ascii: ")")) else { continue }
            // "pid (comm) S ppid ...": the comm may hold spaces and parentheses, so after the last ')'.
            let fields = stat[(close + 1)...].split(separator: UInt8(ascii: " "))
            guard fields.count > 1, let parent = pid_t(String(decoding: fields[1], as: UTF8.self)) else { continue }
            children[parent, default: []].append(pid)
        }
        var samples = Set<Sample>()
        func walk(_ pid: pid_t, lineage: [String], detached: Bool) {
            for child in children[pid] ?? [] {
                guard let sample = sample(child, lineage: lineage, detached: detached) else { continue }
                samples.insert(sample)
                walk(child, lineage: lineage + [sample.cmdline], detached: detached)
            }
        }
        walk(root, lineage: [], detached: false)
        for server in extraRoots() {
            guard let sample = sample(server, lineage: [], detached: true) else { continue }
            samples.insert(sample)
            walk(server, lineage: [sample.cmdline], detached: true)
        }
        return samples
    }

    private func sample(_ pid: pid_t, lineage: [String], detached: Bool) -> Sample? {
        // Not a child that has yet to exec; nor one that exec'd while being read.
        guard let image = Self.image(of: pid), image != rootImage else { return nil }
        // A process whose environ cannot be read (gone, or a kernel thread) is skipped.
        guard let cmdline = Self.read("/proc/\(pid)/cmdline"), let environ = Self.read("/proc/\(pid)/environ"),
              Self.image(of: pid) == image else { return nil }
        let argv = String(decoding: cmdline.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
        let environment = environ.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return Sample(pid: pid, cmdline: argv.trimmingCharacters(in: .whitespaces), lineage: lineage,
                      environment: environment, detached: detached)
    }

    private static func image(of pid: pid_t) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")
    }

    private static func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 { return bytes.isEmpty ? nil : bytes }
            if count == 0 { return bytes }
            bytes += buffer[..<count]
        }
    }
}
