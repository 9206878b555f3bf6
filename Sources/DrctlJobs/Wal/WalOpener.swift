import DrctlCrypto
import DrctlPipeline
import DrctlStorage

/// Opens WAL objects into files: header authenticated (`WalArchive.copy`), data key unwrapped,
/// then the body streamed through in pieces (read, unsealed chunk by chunk, decompressed into
/// one reused buffer, hashed and counted as the bytes pass, written), and the file put in place
/// only once the end is reached and its size and SHA-256 are the header's.
///
/// Nothing is held whole: a 16 MiB segment read into one buffer, opened into another and
/// decompressed into a third cost `wal-fetch` more in page faults of fresh pages than in the
/// work itself, on recovery's critical path (BENCHMARKS.md, "WAL fetch during recovery").
/// The file is written beside the destination under a hidden name and renamed over it at the
/// end (`FileSink`): a copy that fails a check after some of its bytes were written leaves
/// nothing at the destination, so the next region starts clean and a failed fetch leaves no
/// file PostgreSQL could take for the segment.
struct WalOpener: Sendable {
    let archive: WalArchive
    let documents: SignedDocuments
    let keys: KeyRing

    /// The opener `wal-fetch` and its read-ahead worker use: the target's archive of this
    /// cluster in the policy's regions, each bounded by its `read_deadline` when there is another
    /// to ask (with one region there is nothing to fail over to: it gets the store's whole
    /// budget), its signed documents and this host's keys.
    static func fromRegions(target: String, systemIdentifier: UInt64, in context: JobContext) throws -> WalOpener {
        let keys = try context.keys.get()
        let policyRegions = try Repository(policy: context.policy.repository, keys: keys)
        let repository = policyRegions.boundedForFailover()
        guard try repository.identity().get().repositoryID != nil else { throw WalError.versionOneRepository }
        let archive = WalArchive(repository: repository, target: target, systemIdentifier: systemIdentifier)
        return WalOpener(archive: archive, documents: try archive.readerDocuments(), keys: keys)
    }

    /// Bytes read from the region at a time.
    static let pieceSize = 1 << 20
    /// Bytes decompressed at a time, into the one buffer the whole file passes through.
    static let outputSize = 256 << 10

    /// What went wrong, so that the caller knows whether another attempt or region may help.
    enum Failure: Error, CustomStringConvertible {
        /// The region could not be read (its store's retries spent: the next region is asked).
        case read(any Error)
        /// The copy is not believed: damaged, altered, planted (another region may hold a good one).
        case integrity(any Error)
        /// The data key does not unwrap with this host's key: no region will do better.
        case key(any Error)
        /// The destination could not be written (full disk, permissions): no region will do better.
        case destination(any Error)

        var description: String {
            switch self {
            case .read(let error): return "\(error)"
            case .integrity(let error): return "its copy is refused: \(error)"
            case .key(let error), .destination(let error): return "\(error)"
            }
        }
    }

    /// Puts the plain file from `region` at `destination` and returns its size; nil (and nothing
    /// written) when the region has no copy. On any failure nothing is left at `destination`.
    func open(_ name: WalFileName, in region: Region, to destination: String) throws -> Int? {
        let copy: WalCopy
        do {
            guard let found = try archive.copy(of: name, in: region, documents: documents) else { return nil }
            copy = found
        } catch let error as WalObjectError {
            throw Failure.integrity(error)
        } catch {
            throw Failure.read(error)
        }
        defer { copy.reader.cancel() }
        let dataKey = try self.dataKey(of: copy.header, name: name)
        let sink: FileSink
        do {
            // PostgreSQL reads the file at once and keeps what it needs in pg_wal itself: no fsync.
            sink = try FileSink(path: destination, replace: true, durable: false, mode: 0o600)
        } catch {
            throw Failure.destination(error)
        }
        do {
            try stream(copy, name: name, dataKey: dataKey, into: sink)
            try sink.finish()
        } catch {
            sink.abort()
            if error is Failure { throw error }
            if error is RestoreDestinationError { throw Failure.destination(error) }
            throw Failure.integrity(error)
        }
        return Int(copy.header.size)
    }

    private func dataKey(of header: WalObjectHeader, name: WalFileName) throws -> DataKey {
        do {
            guard let repositoryID = documents.identity.repositoryID else { throw WalError.versionOneRepository }
            return try keys.unwrap(header.dataKey, binding: .versionTwo(
                repositoryID: repositoryID, target: archive.target,
                backupID: WalLayout.documentID(systemIdentifier: archive.systemIdentifier, file: name)))
        } catch let error as CryptoError where error.exitClass == .integrity {
            throw Failure.integrity(error)
        } catch {
            throw Failure.key(error)
        }
    }

    /// The body, `stored_size` bytes from the copy's reader, opened into `sink`; throws when it
    /// is cut, fails a chunk's authentication or zstd, or is not the header's size and SHA-256.
    private func stream(_ copy: WalCopy, name: WalFileName, dataKey: DataKey, into sink: FileSink) throws {
        let header = copy.header
        let opener = StreamOpener(dataKey: dataKey, expected: StreamContext(backupID: String(archive.systemIdentifier), objectName: name.description))
        let zstd = try ZstdDecompressor()
        let digest = SHA256Digest()
        var size: UInt64 = 0
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.outputSize, alignment: 16)
        defer { output.deallocate() }
        var frameChecked = false
        func decompress(_ compressed: [UInt8]) throws {
            guard !compressed.isEmpty else { return }
            try compressed.withUnsafeBytes { compressed in
                // One frame, recording the file's size (FORMAT.md): with the size check at the
                // end, nothing can follow it. (The first piece is a whole sealed chunk, at least
                // 1 KiB, or the whole body: the frame's header is in it.)
                if !frameChecked {
                    frameChecked = true
                    let declared = ZstdFrame.declaredContentSize(compressed)
                    guard declared == header.size else {
                        throw WalObjectError.damaged("its body does not start with one zstd frame of the \(header.size) bytes its header gives (it records \(declared.map(String.init) ?? "no size"))")
                    }
                }
                try zstd.process(compressed, into: output) { plain in
                    size += UInt64(plain.count)
                    // Stop at once at a frame that holds more than the header says.
                    guard size <= header.size else { throw WalObjectError.damaged("it holds more than the \(header.size) bytes its header gives") }
                    digest.update(plain)
                    try sink.write(plain)
                }
            }
        }
        let input = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.pieceSize, alignment: 16)
        defer { input.deallocate() }
        var remaining = header.storedSize
        while remaining > 0 {
            let wanted = UnsafeMutableRawBufferPointer(rebasing: input[0..<Int(min(UInt64(input.count), remaining))])
            let count: Int
            do {
                count = try copy.reader.read(into: wanted)
            } catch {
                throw Failure.read(error)
            }
            guard count > 0 else { throw WalObjectError.damaged("'\(copy.key)' ends \(remaining) bytes short of its stored size") }
            remaining -= UInt64(count)
            try decompress(try opener.update(UnsafeRawBufferPointer(rebasing: wanted[0..<count])))
        }
        try decompress(try opener.finish())
        try zstd.finish { _ in }
        guard size == header.size else {
            throw WalObjectError.damaged("it holds \(size) bytes, its header gives \(header.size)")
        }
        guard digest.finalizeHex() == header.sha256 else {
            throw WalObjectError.damaged("its contents do not have the SHA-256 its header gives")
        }
    }
}
