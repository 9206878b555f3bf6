import Foundation
import Glibc
import DrctlPipeline

/// Writes one run's metrics for node_exporter's textfile collector: to a hidden temporary file
/// in the directory, fsynced, then renamed over `drctl_<target>_<command>.prom`, so the
/// collector never reads half a file. One file per command and target, so that runs of other
/// targets (and commands) keep their series. `durable: false` leaves out the fsync (still one
/// rename: never half a file): for `wal-push`, which writes once per WAL segment on the
/// archiver's critical path, where the fsync cost ~8 ms of the segment's time (BENCHMARKS.md);
/// after a crash its file may be empty until the next segment rewrites it.
public struct TextfileWriter: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public static func fileName(command: String, target: String) -> String {
        let safe = target.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" }
        return "drctl_\(String(safe))_\(command).prom"
    }

    @discardableResult
    public func write(_ text: String, command: String, target: String, durable: Bool = true) throws -> String {
        let path = "\(directory)/\(Self.fileName(command: command, target: target))"
        let temporary = "\(directory)/.\(Self.fileName(command: command, target: target)).\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw MetricsError.textfile(path: path, reason: String(cString: strerror(errno))) }
        let failed = Array(text.utf8).withUnsafeBytes { FileDescriptorIO.writeAll(fd, $0) }
        let synced = !durable || fsync(fd) == 0
        close(fd)
        guard failed == nil, synced, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(failed?.code ?? errno))
            unlink(temporary)
            throw MetricsError.textfile(path: path, reason: reason)
        }
        return path
    }
}
