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
/// early and none kept it, read back from this file first (`bodyIfHeadDoesNotFit`): the stored
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

    /// For a body no one kept in memory (`WalFileSealing.stream(retaining: false, into:)`), once it
    /// is all written: nil when `head` fits its room (`finish` will commit), else the body of
    /// `size` bytes read back from the file, for the ordinary write. Throws, the object
    /// discarded, the error that stopped the body's write, or the read's.
    func bodyIfHeadDoesNotFit(_ head: [UInt8], size: Int) throws -> [[UInt8]]? {
        do {
            if let error = failure.withLock({ $0 }) { throw error }
            guard head.count != bodyOffset else { return nil }
            var body = [UInt8](repeating: 0, count: size)
            let count = try body.withUnsafeMutableBytes { try writer.read(into: $0, at: UInt64(bodyOffset)) }
            guard count == size else {
                throw WalError.bodyNotReadBack(expected: size, read: count)
            }
            return [body]
        } catch {
            writer.abort()
            throw error
        }
    }

    /// Writes `head` in front of the body and commits; false, and the object discarded, when
    /// the head does not fit its room or a write of the body failed (the caller then writes
    /// the object the ordinary way). Throws what the commit throws (`StorageError.alreadyExists`
    /// among them).
    func finish(head: [UInt8]) throws -> Bool {
        guard head.count == bodyOffset, failure.withLock({ $0 == nil }) else {
            writer.abort()
            return false
        }
        do {
            try head.withUnsafeBytes { try writer.write($0, at: 0) }
            try writer.commit()
            return true
        } catch {
            writer.abort()
            throw error
        }
    }

    /// Discards the object (the push stopped before its head was made).
    func abort() {
        writer.abort()
    }
}
