import DrctlPipeline
import Foundation
import Synchronization

/// The part buffers of one multipart upload, reused from part to part.
///
/// A writer holds at most `partsInFlight` parts of 5 MiB or more. Allocated anew for every part,
/// they come back from glibc's arenas, not from the system, once the first few are freed (its
/// mmap threshold rises to their size), and the arenas keep what fragments: three regions took
/// an 8 GiB stream from 116 to 149 MiB (scripts/bench-s3.sh, SINK_GIB). Allocating each part
/// with mmap instead returns it, at a page fault per 4 KiB filled (+7 s of system time for that
/// stream). Reused buffers cost neither: a part's buffer comes back here once its request has
/// ended, before the writer is told the part is done, and the next part is filled into it.
/// A spare outgrown when parts double is simply freed: at 5 MiB and up it is a mapping of its
/// own (`MallocSettings`), which glibc unmaps at once.
final class S3PartBuffers: Sendable {
    private let spares = Mutex<[[UInt8]]>([])
    private let freed = Mutex(0)

    /// An empty buffer with room for `capacity` bytes if a spare one has it, else an empty one
    /// (allocated as it fills); spares too small (parts grow every 1000 parts) are freed.
    func take(capacity: Int) -> [UInt8] {
        let (found, outgrown) = spares.withLock { spares -> ([UInt8]?, Int) in
            let held = spares.count
            spares.removeAll { $0.capacity < capacity }
            // Counted before one is taken (a tuple's elements are evaluated in order, so not in
            // the return): taking a spare frees nothing. An earlier version counted after, and
            // trimmed the heap at every part.
            let outgrown = held - spares.count
            return (spares.popLast(), outgrown)
        }
        if outgrown > 0 { freed.withLock { $0 += outgrown } }
        return found ?? []
    }

    /// Takes back a part's buffer: its bytes are dropped, its storage kept.
    func put(_ parcel: S3PartBytes) {
        var buffer = parcel.take()
        guard buffer.capacity > 0 else { return }
        buffer.removeAll(keepingCapacity: true)
        spares.withLock { $0.append(buffer) }
    }

    /// Spare buffers held now.
    var spareCount: Int { spares.withLock { $0.count } }
    /// Spare buffers freed as too small so far.
    var freedCount: Int { freed.withLock { $0 } }
}

/// One part's bytes on their way to its upload thread, then back to `S3PartBuffers`.
final class S3PartBytes: Sendable {
    private let bytes: Mutex<[UInt8]?>

    init(_ bytes: [UInt8]) { self.bytes = Mutex(bytes) }

    /// The bytes, while they are here (for the request).
    var current: [UInt8] { bytes.withLock { $0 ?? [] } }

    /// Moves the bytes out (once; later calls return an empty array).
    func take() -> [UInt8] { bytes.withLock { $0.take() ?? [] } }
}
