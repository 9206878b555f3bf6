import DrctlCrypto
import DrctlPipeline
import DrctlStorage

/// The restore direction of the pipeline for one stored object: region → [SHA-256 check] →
/// open (authenticate, decrypt) → unzstd → sink. Every byte the sink sees was authenticated.
///
/// The SHA-256 of the stored bytes is checked by `verify` (`checksDigest`), not by restores and
/// drills: the sealed stream already authenticates every byte with the data key (each chunk's
/// tag, the final-chunk flag, the header bound to the backup id and object name), so the hash
/// would add no detection, and on two cores it cost about 25% of a restore's wall time
/// (docs/ARCHITECTURE.md, "Restore checks"). The stored size is checked either way.
struct ObjectRestore {
    let manifest: BackupManifest
    let object: StoredObject
    let dataKey: DataKey
    let region: Region
    /// Drills: how long each stage was busy.
    var timing: RestoreTiming?
    /// Also compare the stored bytes' SHA-256 with the manifest (verify).
    var checksDigest = false

    func run(into sink: ByteSink, progress: ProgressObserver?, label: String,
             interruption: Interruption) async throws {
        let reader: ObjectReader
        do {
            // Opening is a request (S3: a HEAD): off the shared threads.
            let (store, key) = (region.store, object.key)
            reader = try await OffPool.run { try store.open(key) }
        } catch {
            sink.abort()
            throw error
        }
        let name = "\(object.key) in region '\(region.name)'"
        let digest = checksDigest ? DigestFilter() : nil
        let opener = OpenFilter(dataKey: dataKey, expected: StreamContext(backupID: manifest.backupID, objectName: object.name))
        let filters: [StreamFilter] = [
            digest.map { FusedFilter([$0, opener]) } ?? opener,
            try ZstdDecompressor(),
        ]
        let checking = CheckingSink(inner: timing?.sink(sink) ?? sink, object: object, name: name, digest: digest)
        let pipeline = Pipeline(
            source: timing?.source(reader) ?? reader,
            filters: timing.map { timing in filters.map { timing.filter($0) } } ?? filters,
            sink: checking)
        checking.stored = pipeline.bytesRead
        progress?.began(label, counter: pipeline.bytesRead, total: object.storedSize)
        defer { progress?.ended() }
        try await interruption.running(pipeline) { try await pipeline.run() }
    }
}

/// Checks, when the stream ends and before the inner sink makes anything durable, that the
/// stored bytes are the ones the manifest recorded (size; SHA-256 when verifying) and that the
/// restored size is the raw size recorded at backup time. The checks run here, after the opener, so that
/// damage the opener can name precisely (which chunk, truncated where) is reported that way.
private final class CheckingSink: ByteSink {
    let inner: ByteSink
    let object: StoredObject
    let name: String
    let digest: DigestFilter?
    /// Bytes read from the store (the pipeline's source count).
    var stored = ByteCounter()
    var written: UInt64 = 0

    init(inner: ByteSink, object: StoredObject, name: String, digest: DigestFilter?) {
        self.inner = inner
        self.object = object
        self.name = name
        self.digest = digest
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        written += UInt64(bytes.count)
        try inner.write(bytes)
    }

    func finish() throws {
        let expectation = DigestFilter.Expectation(sha256: object.sha256, size: object.storedSize, object: name)
        if let digest {
            try expectation.check(sha256: digest.sha256 ?? "", size: digest.byteCount)
        } else {
            try expectation.check(size: stored.total)
        }
        guard written == object.rawSize else {
            throw JobError.sizeMismatch(object: name, expected: object.rawSize, actual: written)
        }
        try inner.finish()
    }

    func abort() { inner.abort() }
}
