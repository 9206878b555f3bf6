import DrctlCrypto
import DrctlPipeline
import Foundation
import Synchronization

/// A WAL file turned into a WAL object's body on a thread of its own, started as soon as the
/// file is open, while `wal-push` loads its keys and opens the repository; `wait()` collects it.
///
/// The file is read once, in pieces: each piece goes into the SHA-256 of the plain file and into
/// zstd (one frame, the stored format's, compressed by zstd's two workers while this thread
/// reads and hashes), whose output is sealed as it comes. So the three overlap on two cores,
/// and neither the file nor the frame is ever held whole; the sealed body is, unless every region
/// takes it as it comes (`stream(retaining:into:)`, BENCHMARKS.md, "wal-push").
final class WalFileSealing: Sendable {
    struct Sealed: Sendable {
        /// The plain file's SHA-256, hex.
        let sha256: String
        /// The body (a sealed stream), in the pieces the sealer gave: written one after the other;
        /// nil when it was only streamed (`stream(retaining: false, into:)`).
        let body: [[UInt8]]?
        let storedSize: Int
    }

    /// zstd's workers: the benchmark machine's two cores. More would not help on two cores, and
    /// each costs a job's memory.
    static let workers = 2
    /// zstd's smallest job: a worker holds a job's input and output, so small jobs keep the
    /// memory low for a ratio that changes in the fifth digit (BENCHMARKS.md, "wal-push").
    static let jobSize = 512 << 10
    /// Bytes read at a time: a job's worth or two in flight while the next is read.
    static let pieceSize = 1 << 20

    /// Where the body goes as it is sealed, besides memory: each piece with its offset in the body.
    typealias Sink = @Sendable (_ piece: UnsafeRawBufferPointer, _ offset: Int) -> Void

    /// The body sealed so far, and where it also goes.
    private struct Progress {
        var body: [[UInt8]] = []
        var size = 0
        var sink: Sink?
        var retains = true
    }

    private let progress = Mutex(Progress())
    private let sealed = Mutex<Result<String, any Error>?>(nil)
    private let done = DispatchSemaphore(value: 0)
    private let madeKey = Mutex<DataKey?>(nil)
    private let keyMade = DispatchSemaphore(value: 0)

    /// Starts sealing `file` under a data key of its own, made on the sealing thread: the first
    /// use of OpenSSL's random generator (its configuration read, its generator seeded) is then
    /// not in the way of the thread that reads the policy and the keys.
    init(_ file: WalFile, level: Int32, context: StreamContext) {
        Thread.detachNewThread {
            let dataKey = DataKey.random()
            self.madeKey.withLock { $0 = dataKey }
            self.keyMade.signal()
            let result = Result { try self.seal(file, level: level, dataKey: dataKey, context: context) }
            self.sealed.withLock { $0 = result }
            self.done.signal()
        }
    }

    /// The data key the body is sealed under, once made.
    var dataKey: DataKey {
        if let key = madeKey.withLock({ $0 }) { return key }
        keyMade.wait()
        return madeKey.withLock { $0! }
    }

    /// Gives `sink` every piece of the body: those sealed already at once (on this thread), the
    /// others on the sealing thread as they are sealed, all before `wait()` returns. So the body
    /// can be written out while the file is still being read (`WalEarlyWrite`). Without
    /// `retaining`, a piece is dropped once the sink has it: the body's 4–17 MiB are then never
    /// held, each piece's memory is reused for the next (a fresh page costs a fault, a third of
    /// a push's faults were the body's), and `Sealed.body` is nil.
    func stream(retaining: Bool = true, into sink: @escaping Sink) {
        progress.withLock { progress in
            var offset = 0
            for piece in progress.body {
                piece.withUnsafeBytes { sink($0, offset) }
                offset += piece.count
            }
            progress.sink = sink
            if !retaining {
                progress.body = []
                progress.retains = false
            }
        }
    }

    /// The sealed body and the file's digest, once made; the error that stopped it otherwise.
    func wait() throws -> Sealed {
        done.wait()
        let sha256 = try sealed.withLock { $0! }.get()
        return progress.withLock { Sealed(sha256: sha256, body: $0.retains ? $0.body : nil, storedSize: $0.size) }
    }

    /// Seals the file into `progress` and returns its SHA-256.
    private func seal(_ file: WalFile, level: Int32, dataKey: DataKey, context: StreamContext) throws -> String {
        let digest = SHA256Digest()
        let zstd = try ZstdCompressor(level: level, threads: Self.workers, jobSize: Self.jobSize, contentSize: file.size)
        let sealer = StreamSealer(dataKey: dataKey, context: context)
        func keep(_ piece: [UInt8]) {
            guard !piece.isEmpty else { return }
            progress.withLock { progress in
                if let sink = progress.sink { piece.withUnsafeBytes { sink($0, progress.size) } }
                if progress.retains { progress.body.append(piece) }
                progress.size += piece.count
            }
        }
        func seal(_ compressed: [UInt8]) {
            keep(compressed.withUnsafeBytes { sealer.update($0) })
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.pieceSize, alignment: 16)
        defer { buffer.deallocate() }
        try file.read(into: buffer) { piece in
            // zstd first: its workers compress this piece while it is hashed here.
            try zstd.process(piece, emit: seal)
            digest.update(piece)
        }
        try zstd.finish(emit: seal)
        keep(sealer.finish())
        return digest.finalizeHex()
    }
}
