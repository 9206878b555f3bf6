import Foundation
import Glibc
import Testing
@testable import DrctlPipeline

/// The background syncs of a file being written (`WriteBehind`).
@Suite struct WriteBehindTests {
    /// Writes `count` bytes to `fd` in pieces, counting them.
    func write(_ count: Int, to fd: Int32, counting writeBehind: WriteBehind) throws {
        let piece = [UInt8](repeating: 0x61, count: 1 << 20)
        var left = count
        while left > 0 {
            let size = min(left, piece.count)
            try piece.withUnsafeBytes { bytes in
                if let error = FileDescriptorIO.writeAll(fd, UnsafeRawBufferPointer(rebasing: bytes[..<size])) { throw error }
            }
            writeBehind.wrote(size)
            left -= size
        }
    }

    /// Runs `body` with a new temporary file open for writing, then removes it.
    func withTemporaryFile(_ body: (String, Int32) throws -> Void) throws {
        let path = NSTemporaryDirectory() + "write-behind-\(UUID().uuidString)"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        try #require(fd >= 0)
        defer { close(fd); unlink(path) }
        try body(path, fd)
    }

    @Test func aFileIsSyncedAsItGrowsAndFinishesClean() throws { try withTemporaryFile { path, fd in
        let writeBehind = WriteBehind(fd: fd)
        try write(3 * WriteBehind.step + 12345, to: fd, counting: writeBehind)
        for _ in 0..<500 where writeBehind.completedSyncs == 0 { usleep(10_000) }
        #expect(writeBehind.hasStarted && writeBehind.completedSyncs >= 1)
        #expect(writeBehind.finish() == nil)
        #expect(fsync(fd) == 0)
        var info = stat()
        #expect(stat(path, &info) == 0 && Int(info.st_size) == 3 * WriteBehind.step + 12345)
    } }

    /// A sync's error is the commit's error: the final fsync would not report it again (the
    /// background sync shares the file description's error state), so `finish` must.
    @Test func aFailedBackgroundSyncIsReportedByFinish() throws {
        // fdatasync(2) on a pipe fails with EINVAL: a sync that fails every time.
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }
        let writeBehind = WriteBehind(fd: ends[1])
        writeBehind.wrote(WriteBehind.step)         // counted only: nothing need be in the pipe
        // The sync runs on its own thread: wait for it (finish does not wait for one that has
        // not started; the final fsync covers what it would have synced).
        for _ in 0..<500 where writeBehind.completedSyncs == 0 { usleep(10_000) }
        #expect(writeBehind.completedSyncs == 1)
        #expect(writeBehind.finish() == Errno(EINVAL))
    }

    /// The commit's own fsync fails too (on a pipe, again EINVAL): `syncFile` returns it.
    @Test func syncFileReportsTheFinalFsync() throws {
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        defer { close(ends[0]); close(ends[1]) }
        #expect(WriteBehind(fd: ends[1]).syncFile() == Errno(EINVAL))
    }

    @Test func smallFilesStartNoThread() throws { try withTemporaryFile { _, fd in
        let writeBehind = WriteBehind(fd: fd)
        try write(WriteBehind.step - 1, to: fd, counting: writeBehind)
        #expect(!writeBehind.hasStarted)
        #expect(writeBehind.finish() == nil)
    } }
}
