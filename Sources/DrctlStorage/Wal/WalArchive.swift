import DrctlCrypto
import Foundation

/// One target's WAL archive for one cluster (system identifier) across the repository's
/// regions (docs/FORMAT.md, "WAL archive"): where each file's object lies, and which regions
/// hold an authentic copy. `wal-push`, `wal-fetch` and a physical base backup (waiting for its
/// WAL at quorum) read it through here.
public struct WalArchive: Sendable {
    public let repository: Repository
    public let target: String
    public let systemIdentifier: UInt64

    public init(repository: Repository, target: String, systemIdentifier: UInt64) {
        self.repository = repository
        self.target = target
        self.systemIdentifier = systemIdentifier
    }

    public func key(_ name: WalFileName) -> String {
        WalLayout.key(target: target, systemIdentifier: systemIdentifier, file: name)
    }

    /// The region names whose copy of `name` exists and authenticates (its header's signature;
    /// the body is checked by whoever opens it), in policy order. A region that cannot be read,
    /// or whose copy is refused, is not among them. Throws only when the repository's identity
    /// cannot be settled (its regions name different ids).
    public func regionsHolding(_ name: WalFileName) throws -> [String] {
        try holding(name).held
    }

    /// As `regionsHolding`, with why each region that cannot be read, or whose copy is
    /// refused, is not among them (what a wait for the quorum names when it runs out).
    public func holding(_ name: WalFileName) throws -> WalHolding {
        let documents = try readerDocuments()
        let copies = BoundedReads.eachRegion(repository.regions) { region in
            Result { try copy(of: name, in: region.bounded(), documents: documents) }
        }
        var holding = WalHolding()
        for (region, copy) in zip(repository.regions, copies) {
            switch copy {
            case .success(.some): holding.held.append(region.name)
            case .success(.none): break
            case .failure(let error): holding.unreadable.append((region.name, "\(error)"))
            }
        }
        return holding
    }

    /// How headers are checked: the repository's identity and the policy's writers.
    public func readerDocuments() throws -> SignedDocuments {
        try repository.signedDocuments(signingKey: .failure(SignedDocuments.ReadOnly()))
    }

    /// The authenticated copy of `name` in `region`; nil when the region has none. Throws
    /// when the region cannot be read, or its copy is refused (`WalObjectError`).
    /// The copy's reader stays open for its body: an object longer than one read window (an
    /// S3 reader's 8 MiB: a segment zstd cannot shrink) is read by more than one request.
    public func copy(of name: WalFileName, in region: Region, documents: SignedDocuments) throws -> WalCopy? {
        let key = self.key(name)
        let reader: ObjectReader
        do {
            reader = try region.store.open(key)
        } catch StorageError.notFound {
            return nil
        }
        do {
            return try WalCopy(reading: reader, key: key, region: region.name, archive: self, documents: documents)
        } catch {
            reader.cancel()
            throw error
        }
    }
}

/// One region's copy of a WAL file, its header read and authenticated; the body is still
/// unread in `reader`.
public struct WalCopy: @unchecked Sendable {
    // unchecked: `reader` is used by one thread at a time, the one that read the header.
    public let region: String
    public let key: String
    public let header: WalObjectHeader
    /// The bytes before the body as stored (framing and signed header): with the body, the
    /// object as it was written, for a copy that must not read it twice (`sync`).
    public let head: [UInt8]
    /// The object's reader, positioned at the body's first byte.
    public let reader: ObjectReader

    init(reading reader: ObjectReader, key: String, region: String, archive: WalArchive, documents: SignedDocuments) throws {
        self.region = region
        self.key = key
        self.reader = reader
        let prefix = try Self.read(WalObjectFraming.prefixSize, from: reader, key: key)
        let length = try WalObjectFraming.headerLength(prefix: prefix)
        let bytes = try Self.read(length, from: reader, key: key)
        let header: WalObjectHeader
        do {
            header = try ManifestCoding.decoder.decode(WalObjectHeader.self, from: Data(bytes))
        } catch {
            throw WalObjectError.malformed("its header is not a valid \(WalObjectHeader.formatName): \(error)")
        }
        guard header.format == WalObjectHeader.formatName else { throw WalObjectError.malformed("its header's format is '\(header.format)'") }
        guard header.version <= WalObjectHeader.currentVersion else {
            throw WalObjectError.newerFormat("its header has version \(header.version); this drctl reads up to "
                + "\(WalObjectHeader.currentVersion): upgrade drctl")
        }
        guard header.version >= 2 else { throw WalObjectError.malformed("its header has version \(header.version): drctl writes only version 2") }
        let system = String(archive.systemIdentifier)
        guard let file = WalLayout.parse(key)?.file, header.target == archive.target, header.systemIdentifier == system,
              header.file == file.description, header.timeline == file.timeline else {
            throw WalObjectError.malformed("its header describes '\(header.file)' of system \(header.systemIdentifier), target "
                + "'\(header.target)', which belongs elsewhere")
        }
        guard UInt64(WalObjectFraming.prefixSize + length) + header.storedSize == reader.size else {
            throw WalObjectError.damaged("it is \(reader.size) bytes long, but its header and body make "
                + "\(UInt64(WalObjectFraming.prefixSize + length) + header.storedSize)")
        }
        if let failure = documents.failure(of: header, stored: bytes, kind: .wal, target: archive.target,
                                           id: WalLayout.documentID(systemIdentifier: archive.systemIdentifier, file: file),
                                           writtenAt: .distantFuture) {
            throw WalObjectError.unauthenticated(failure)
        }
        self.header = header
        self.head = prefix + bytes
    }

    /// The body, whole (`stored_size` bytes; a WAL file is small enough to hold).
    public func body() throws -> [UInt8] {
        try Self.read(Int(header.storedSize), from: reader, key: key)
    }

    static func read(_ count: Int, from reader: ObjectReader, key: String) throws -> [UInt8] {
        var filled = 0
        let bytes = try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            while filled < count {
                let got = try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[filled...]))
                if got == 0 { break }
                filled += got
            }
            initialized = filled
        }
        guard filled == count else { throw WalObjectError.damaged("'\(key)' ends after \(filled) of \(count) bytes") }
        return bytes
    }
}

extension Repository {
    /// The system identifiers under which `target` has archived WAL in `region` (the folders
    /// of `wal/<target>/`), from one listing.
    public func walSystems(target: String, in region: Region) throws -> Set<UInt64> {
        Set(try region.store.list(prefix: WalLayout.targetPrefix(target)).compactMap { WalLayout.parse($0.key)?.systemIdentifier })
    }
}
