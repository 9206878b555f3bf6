import DrctlStorage
import Synchronization

/// A WAL object written into a region whose store can place bytes anywhere before the commit
/// (a local directory: `PositionalObjectWriter`) while its file is still being sealed: the body
/// piece by piece as `WalFileSealing` seals it, each piece's write-back started at once, after
/// room for the head; the head (signed, recording the body's size and digest) last, then the
/// commit's fsync, which finds little left to write (BENCHMARKS.md, "wal-push").
///
/// The room is the length of a head made with the body's size estimated (`estimatedStoredSize`)
/// and a placeholder digest: every other field of the head is known before the body, and the
/// digest and the time have a fixed length, so the real head fits exactly unless the body's size
/// has another number of digits (a segment mostly zeros, as a switched one is, or one zstd cannot
/// shrink). Then, or when a write failed, the object is discarded and written again from its
/// start (`WalPushJob.store`), from the body kept in memory or, where every region wrote it
/// early and none kept it, read back from this file first (`finish(head:kept:size:)`): the stored
/// bytes are the same either way (docs/FORMAT.md, "The WAL object").
final class WalEarlyWrite: @unchecked Sendable {
    // unchecked: `writer` is used by the sealing thread (one piece at a time, under
    // WalFileSealing's lock) until `WalFileSealing.wait()` returns, by the caller only after.
    private let writer: PositionalObjectWriter
    /// Where the body starts: the estimated head's length.
    let bodyOffset: Int
    /// The first write's error; the rest of the body is then skipped.
    private let failure = Mutex<(any Error)?>(nil)

    /// Files smaller than this are written whole after sealing: too little to gain.
    static let minimumFileSize = 1 << 20

    /// The body's size `wal-push` writes room for: its number of digits is what matters. WAL
    /// under load is stored at 25–35 % of its size (BENCHMARKS.md): any ratio from 6 to 59 % of
    /// a 16 MiB segment has the same 7 digits as this estimate's 30 %.
    static func estimatedStoredSize(fileSize: Int) -> UInt64 {
        UInt64(fileSize) * 3 / 10
    }

    init(writer: PositionalObjectWriter, bodyOffset: Int) {
        self.writer = writer
        self.bodyOffset = bodyOffset
    }

    /// One piece of the body, at `offset` in the body. After a failed write the rest is skipped
    /// (`finish` then declines).
    func write(_ piece: UnsafeRawBufferPointer, at offset: Int) {
        guard failure.withLock({ $0 == nil }) else { return }
        do {
            try writer.write(piece, at: UInt64(bodyOffset + offset))
        } catch {
            failure.withLock { $0 = error }
        }
    }

    /// Once the body is all written: writes `head` in front of it and commits, and returns nil;
    /// or, when the head does not fit its room or a write of the body failed, discards the object
    /// and returns the body for the ordinary write: `kept` (the body in memory), or, where no one
    /// kept it (`WalFileSealing.stream(retaining: false, into:)`), its `size` bytes read back from
    /// this file — unless a write failed, whose error is then thrown. Throws what the commit
    /// throws (`StorageError.alreadyExists` among them).
    func finish(head: [UInt8], kept: [[UInt8]]?, size: Int) throws -> [[UInt8]]? {
        do {
            let failed = failure.withLock { $0 }
            if failed == nil, head.count == bodyOffset {
                try head.withUnsafeBytes { try writer.write($0, at: 0) }
                try writer.commit()
                return nil
            }
            defer { writer.abort() }
            if let kept { return kept }
            if let failed { throw failed }
            return [try readBack(size)]
        } catch {
            writer.abort()
            throw error
        }
    }

    /// The body's `size` bytes as written.
    private func readBack(_ size: Int) throws -> [UInt8] {
        var body = [UInt8](repeating: 0, count: size)
        let count = try body.withUnsafeMutableBytes { try writer.read(into: $0, at: UInt64(bodyOffset)) }
        guard count == size else { throw WalError.bodyNotReadBack(expected: size, read: count) }
        return body
    }

    /// Discards the object (the push stopped before its head was made).
    func abort() {
        writer.abort()
    }
}
