import Foundation
import Glibc

/// Makes a file durable while it is still being written, so that the fsync that commits it
/// has almost nothing left to wait for.
///
/// Every `step` bytes written, a thread of its own calls fdatasync(2) on the file while the
/// writer goes on. Starting write-back alone (posix_fadvise, sync_file_range) is not enough on
/// a virtual disk: the final fsync's cache flush still waits for the host to persist the whole
/// file (scripts/bench-pipeline.sh measured 0.14–0.70 s for a 446 MB object; with these
/// syncs, 0.05 s).
///
/// The thread syncs a dup(2) of the descriptor, which shares the file's write-error state: an
/// error it sees would not be reported again to the final fsync. So `finish()` waits for a
/// sync in flight and returns the first error; the owner must treat it as a failed fsync.
// unchecked: every `var` is guarded by `condition` (an NSCondition, for its waits).
public final class WriteBehind: @unchecked Sendable {
    /// Bytes between two syncs.
    public static let step = 32 << 20

    private let fd: Int32
    private var unsynced = 0
    private let condition = NSCondition()
    // Guarded by `condition`:
    private var started = false
    private var requested = false
    private var ended = false
    private var syncing = false
    private var syncs = 0
    private var failure: Errno?

    /// - Parameter fd: the file being written; it stays the caller's.
    public init(fd: Int32) {
        self.fd = fd
    }

    /// Counts bytes just written; every `step` bytes asks for a sync. Called by the writer only.
    public func wrote(_ count: Int) {
        unsynced += count
        guard unsynced >= Self.step else { return }
        unsynced = 0
        condition.lock()
        defer { condition.unlock() }
        guard !ended else { return }
        if !started {
            started = true
            startThread()
        }
        requested = true
        condition.signal()
    }

    /// Stops the syncs: waits for one in flight and returns the first error any of them met.
    public func finish() -> Errno? {
        condition.lock()
        defer { condition.unlock() }
        ended = true
        condition.broadcast()
        while syncing { condition.wait() }
        return failure
    }

    /// What a commit does: the background syncs end, then fsync(2) makes the rest durable.
    /// The first error of either, or nil.
    public func syncFile() -> Errno? {
        if let error = finish() { return error }
        return fsync(fd) == 0 ? nil : Errno(errno)
    }

    /// Stops the syncs without waiting (the file is being thrown away).
    public func cancel() {
        condition.lock()
        ended = true
        condition.signal()
        condition.unlock()
    }

    /// Whether a sync thread was started (the file reached `step` bytes), and how many syncs
    /// it completed: for tests.
    var hasStarted: Bool { condition.withLock { started } }
    var completedSyncs: Int { condition.withLock { syncs } }

    /// Called with `condition` held.
    private func startThread() {
        let copy = dup(fd)
        guard copy >= 0 else {
            // No background syncs: the final fsync does all the work, as without this type.
            ended = true
            return
        }
        let thread = Thread { [self] in
            run(copy)
            close(copy)
        }
        thread.name = "drctl-sync"
        thread.start()
    }

    private func run(_ copy: Int32) {
        condition.lock()
        defer { condition.unlock() }
        while true {
            while !requested && !ended { condition.wait() }
            if ended { return }
            requested = false
            syncing = true
            condition.unlock()
            let result = fdatasync(copy)
            let code = errno
            condition.lock()
            syncing = false
            syncs += 1
            if result != 0 && failure == nil { failure = Errno(code) }
            condition.broadcast()
        }
    }
}
