import DrctlCrypto
import DrctlPipeline
import DrctlStorage

/// The restore direction of the pipeline for one stored object: region → SHA-256 check →
/// open (authenticate, decrypt) → unzstd → sink. Every byte the sink sees was authenticated.
struct ObjectRestore {
    let manifest: BackupManifest
    let object: StoredObject
    let dataKey: DataKey
    let region: Region
    /// Drills: how long each stage was busy.
    var timing: RestoreTiming?

    func run(into sink: ByteSink, progress: ProgressObserver?, label: String,
             interruption: Interruption) async throws {
        let reader: ObjectReader
        do {
            reader = try region.store.open(object.key)
        } catch {
            sink.abort()
            throw error
        }
        let name = "\(object.key) in region '\(region.name)'"
        let digest = DigestFilter()
        let filters: [StreamFilter] = [
            FusedFilter([
                digest,
                OpenFilter(dataKey: dataKey, expected: StreamContext(backupID: manifest.backupID, objectName: object.name)),
            ]),
            try ZstdDecompressor(),
        ]
        let checking = CheckingSink(inner: timing?.sink(sink) ?? sink, object: object, name: name, digest: digest)
        let pipeline = Pipeline(
            source: timing?.source(reader) ?? reader,
            filters: timing.map { timing in filters.map { timing.filter($0) } } ?? filters,
            sink: checking)
        progress?.began(label, counter: pipeline.bytesRead, total: object.storedSize)
        defer { progress?.ended() }
        try await interruption.running(pipeline) { try await pipeline.run() }
    }
}

/// Checks, when the stream ends and before the inner sink makes anything durable, that the
/// stored bytes are the ones the manifest recorded (size, SHA-256) and that the restored size
/// is the raw size recorded at backup time. The checks run here, after the opener, so that
/// damage the opener can name precisely (which chunk, truncated where) is reported that way.
private final class CheckingSink: ByteSink {
    let inner: ByteSink
    let object: StoredObject
    let name: String
    let digest: DigestFilter
    var written: UInt64 = 0

    init(inner: ByteSink, object: StoredObject, name: String, digest: DigestFilter) {
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
        try DigestFilter.Expectation(sha256: object.sha256, size: object.storedSize, object: name)
            .check(sha256: digest.sha256 ?? "", size: digest.byteCount)
        guard written == object.rawSize else {
            throw JobError.sizeMismatch(object: name, expected: object.rawSize, actual: written)
        }
        try inner.finish()
    }

    func abort() { inner.abort() }
}
