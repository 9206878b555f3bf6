import DrctlCrypto
import Foundation

/// The backups of one policy across its regions. Reads need no local state: everything is
/// found by listing the regions (docs/FORMAT.md, "Layout"). The manifests and records read may
/// be kept in `cache`, which only saves reading them again.
public struct Repository: Sendable {
    public let regions: [Region]
    /// Where manifests and records read from S3 are kept; nil: every read goes to the store.
    public let cache: ObjectCache?
    /// Whose signatures are believed and the repository id the policy pins.
    public let trust: WriterTrust
    /// The repository's identity, read once from the regions' markers.
    private let identities: IdentityCache

    public init(regions: [Region], cache: ObjectCache? = nil, trust: WriterTrust = .nobody) {
        self.init(regions: regions, cache: cache, trust: trust, identities: IdentityCache())
    }

    private init(regions: [Region], cache: ObjectCache?, trust: WriterTrust, identities: IdentityCache) {
        self.regions = regions
        self.cache = cache
        self.trust = trust
        self.identities = identities
    }

    /// The same repository with other regions (bounded ones, a subset), its trust and the
    /// identity already read kept.
    public func with(regions: [Region]) -> Repository {
        Repository(regions: regions, cache: cache, trust: trust, identities: identities)
    }

    /// Each region bounded by its read deadline (`Region.bounded`) when another region can
    /// answer instead; a lone region keeps the store's whole retry budget: there is nothing to
    /// fail over to, and giving up early only turns a transient fault into a failure.
    public func boundedForFailover() -> Repository {
        regions.count < 2 ? self : with(regions: regions.map { $0.bounded() })
    }

    /// The same repository believing `trust`.
    public func trusting(_ trust: WriterTrust) -> Repository {
        Repository(regions: regions, cache: cache, trust: trust, identities: IdentityCache())
    }

    public func region(named name: String) -> Region? {
        regions.first { $0.name == name }
    }

    /// Prepares `regions` for a backup: reads each one's `repository.json`, settles the
    /// repository's identity (`RepositoryIdentity.of`: a new version 2 id, or the policy's pin,
    /// when no region has a marker yet) and writes the marker into regions that have none. A
    /// region that cannot be read or written is returned with its error; regions that disagree
    /// about the id fail the whole preparation.
    public func prepare(_ regions: [Region], toolVersion: String) throws -> (identity: RepositoryIdentity, failed: [(Region, any Error)]) {
        try prepare(regions, toolVersion: toolVersion, rereads: 1)
    }

    /// `rereads`: how often a marker another run wrote first (two first backups at once, each
    /// with an id of its own) sends the preparation back to read the markers again and take
    /// the id written. Regions are written in policy order, so the first region settles it.
    private func prepare(_ regions: [Region], toolVersion: String, rereads: Int) throws -> (identity: RepositoryIdentity, failed: [(Region, any Error)]) {
        var failed: [(Region, any Error)] = []
        var markers: [(region: Region, marker: RepositoryMarker?)] = []
        for region in regions {
            do { markers.append((region, try marker(in: region))) } catch { failed.append((region, error)) }
        }
        let pinned = trust.pinnedRepositoryID
        var identity = try RepositoryIdentity.of(markers: markers.map { ($0.region.name, $0.marker) }, pinned: pinned)
        if identity == nil {
            // No readable region has a marker: a new repository (or its first regions). A region
            // that could not be read may hold an id already; if so, the regions disagree from
            // now on and every command names it (the caller warns about the unread regions).
            identity = RepositoryIdentity(repositoryID: pinned ?? RepositoryMarker.newRepositoryID(), versionOneBefore: nil)
        }
        guard let identity else { preconditionFailure("settled above") }
        let marker = RepositoryMarker(createdAt: Date(), createdBy: "drctl \(toolVersion)", repositoryID: identity.repositoryID)
        for (region, existing) in markers where existing == nil {
            do {
                try region.store.put(RepositoryLayout.marker, bytes: try marker.encoded())
            } catch StorageError.alreadyExists where rereads > 0 {
                return try prepare(regions, toolVersion: toolVersion, rereads: rereads - 1)
            } catch {
                failed.append((region, error))
            }
        }
        identities.remember(identity)
        return (identity, failed)
    }

    /// The repository's identity as every readable region's marker gives it (a region that
    /// cannot be read is left out; when none can be, the first one's error), read once for this
    /// `Repository` (one run: every job opens its own, so a long-running agent judges afresh at
    /// each run) and kept, so that a region that does not answer is waited on once (for its read
    /// deadline), not at every manifest. The regions are read side by side: hung regions cost
    /// one read deadline together.
    public func identity() -> Result<RepositoryIdentity, any Error> {
        identities.identity {
            Result {
                // A region that does not answer costs its read deadline, not the transfer retries
                // of a restore's reads (a lone region: the whole budget, as its reads get).
                let read = BoundedReads.eachRegion(boundedForFailover().regions) { region in
                    Result { try listedMarker(in: region) }
                }
                // No region answered: nothing says which version the repository is.
                let failures = read.compactMap { answer -> (any Error)? in if case .failure(let error) = answer { error } else { nil } }
                if failures.count == read.count, let first = failures.first { throw first }
                let markers = zip(regions, read).compactMap { region, marker in (try? marker.get()).map { (region.name, $0) } }
                let pinned = trust.pinnedRepositoryID
                return try RepositoryIdentity.of(markers: markers, pinned: pinned)
                    ?? pinned.map { RepositoryIdentity(repositoryID: $0, versionOneBefore: nil) } ?? .versionOne
            }
        }
    }

    public func marker(in region: Region) throws -> RepositoryMarker? {
        let bytes: [UInt8]
        do {
            bytes = try region.store.get(RepositoryLayout.marker)
        } catch StorageError.notFound {
            return nil
        }
        return try marker(decoding: bytes, in: region)
    }

    /// The region's marker found by a listing, so that the read cache serves it as it serves
    /// manifests (read-only commands list anyway; a warm run reads nothing but listings).
    func listedMarker(in region: Region) throws -> RepositoryMarker? {
        let listed = try region.store.list(prefix: RepositoryLayout.marker).filter { $0.key == RepositoryLayout.marker }
        guard let bytes = try readListed(listed, under: RepositoryLayout.marker, in: region).first?.get() else { return nil }
        return try marker(decoding: bytes, in: region)
    }

    private func marker(decoding bytes: [UInt8], in region: Region) throws -> RepositoryMarker {        let marker: RepositoryMarker
        do {
            marker = try ManifestCoding.decoder.decode(RepositoryMarker.self, from: Data(bytes))
        } catch {
            throw RepositoryError.unreadable(what: RepositoryLayout.marker, region: region.name, reason: "\(error)")
        }
        guard marker.format == RepositoryMarker.formatName else {
            throw RepositoryError.unreadable(what: RepositoryLayout.marker, region: region.name,
                                             reason: "format is '\(marker.format)', not '\(RepositoryMarker.formatName)'")
        }
        guard marker.version <= RepositoryMarker.currentVersion else {
            throw RepositoryError.newerFormat(what: "repository", version: marker.version,
                                              supported: RepositoryMarker.currentVersion, region: region.name)
        }
        return marker
    }

    /// The manifests in one region, oldest first; `target` nil means every target. Throws only
    /// when the region cannot be listed: a manifest that cannot be read (damaged, or its read
    /// failed) is returned in `unreadable` and affects only its own backup.
    public func manifests(in region: Region, target: String? = nil) throws -> RegionManifests {
        let prefix = target.map(RepositoryLayout.manifestsPrefix) ?? "manifests/"
        var found = RegionManifests()
        let listed = try region.store.list(prefix: prefix).filter { $0.key.hasSuffix(".json") }
        for (object, read) in zip(listed, readListed(listed, under: prefix, in: region)) {
            do {
                found.manifests.append(try manifest(decoding: try read.get(), at: object.key, in: region))
            } catch {
                found.unreadable.append(UnreadableManifest(key: object.key, region: region.name, error: error))
            }
        }
        found.manifests.sort { ($0.target, $0.backupID) < ($1.target, $1.backupID) }
        return found
    }

    /// The bytes of objects a listing of `prefix` just returned, in its order: from the cache
    /// where it holds them, else read (`BoundedReads.perRegion` at a time) and kept. Entries for
    /// objects the listing no longer shows are dropped.
    func readListed(_ listed: [ObjectInfo], under prefix: String, in region: Region,
                    limit: UInt64 = 64 << 20) -> [Result<[UInt8], any Error>] {
        let location = region.store.location
        let cache = self.cache
        let reads = BoundedReads.map(listed) { object -> Result<[UInt8], any Error> in
            if let cached = cache?.bytes(of: object, at: location) { return .success(cached) }
            return Result {
                let bytes = try region.store.get(listed: object, limit: limit)
                cache?.keep(bytes, of: object, at: location)
                return bytes
            }
        }
        cache?.forget(allBut: listed, under: prefix, at: location)
        return reads
    }

    public func manifest(target: String, backup: BackupID, in region: Region) throws -> BackupManifest {
        try manifest(at: RepositoryLayout.manifestKey(target: target, backup: backup), in: region)
    }

    /// A manifest read by its key and checked: format, version, that it lies where its own
    /// target and id say it should, and the readers' rules (`ManifestRules`).
    public func manifest(at key: String, in region: Region) throws -> BackupManifest {
        try manifest(decoding: try region.store.get(key), at: key, in: region)
    }

    /// The manifest `bytes` read from `key`, checked as `manifest(at:in:)` does: for a caller
    /// that keeps the bytes (sync copies them), so what it checked is what it uses.
    public func manifest(decoding bytes: [UInt8], at key: String, in region: Region) throws -> BackupManifest {
        let manifest: BackupManifest
        do {
            manifest = try BackupManifest.decode(bytes)
        } catch {
            throw RepositoryError.unreadable(what: key, region: region.name, reason: "not a valid manifest: \(error)")
        }
        guard manifest.format == BackupManifest.formatName else {
            throw RepositoryError.unreadable(what: key, region: region.name, reason: "format is '\(manifest.format)'")
        }
        guard manifest.version <= BackupManifest.currentVersion else {
            throw RepositoryError.newerFormat(what: key, version: manifest.version,
                                              supported: BackupManifest.currentVersion, region: region.name)
        }
        guard let id = manifest.id,
              key == RepositoryLayout.manifestKey(target: manifest.target, backup: id) else {
            throw RepositoryError.unreadable(what: key, region: region.name,
                                             reason: "it describes backup '\(manifest.backupID)' of target '\(manifest.target)', which belongs elsewhere")
        }
        if let violation = ManifestRules.violation(in: manifest) {
            throw RepositoryError.refused(what: key, region: region.name, reason: violation)
        }
        var authenticated = manifest
        authenticated.storedSHA256 = hex(sha256(bytes))
        do {
            authenticated.authenticity = try authenticity(of: manifest, stored: bytes, backup: id)
        } catch let failure as SealFailure {
            throw RepositoryError.unauthenticated(what: key, region: region.name, failure: failure)
        } catch {
            throw RepositoryError.refused(what: key, region: region.name, reason: "\(error)")
        }
        return authenticated
    }

    /// What the stored bytes of `manifest` prove (docs/FORMAT.md, "What version 2 readers
    /// refuse"): a version 2 manifest's writer signature is checked against the policy's
    /// writers for the address it was read at; a version 1 manifest is believed only where the
    /// repository's version allows one (never after the repository became version 2).
    private func authenticity(of manifest: BackupManifest, stored bytes: [UInt8], backup id: BackupID) throws -> ManifestAuthenticity {
        let identity = try identity().get()
        guard manifest.version >= 2 else {
            guard let before = identity.versionOneBefore, id.startedAt < before else {
                throw SealFailure.malformed("a version 1 manifest (unauthenticated) dated after the repository became version 2: "
                    + "drctl writes only version 2 manifests here")
            }
            return .unauthenticated
        }
        guard let repositoryID = identity.repositoryID else {
            throw SealFailure.malformed("a version 2 manifest in a version 1 repository (its repository.json has no repository_id)")
        }
        guard let field = manifest.authentication else { throw SealFailure.malformed("a version 2 manifest without its authentication") }
        let writers: [WriterKey]
        switch trust.writers {
        case .success(let known): writers = known
        case .failure(let error): throw SealFailure.uncheckable("\(error)")
        }
        let address = manifest.address(repositoryID: repositoryID)
        return .signed(address, try DocumentSeal.verifiedSignature(of: bytes, signer: field.signer, at: address, writers: writers))
    }
}

/// What one region's manifests are: those read, and those that could not be.
public struct RegionManifests: Sendable {
    public var manifests: [BackupManifest] = []
    public var unreadable: [UnreadableManifest] = []

    public init(manifests: [BackupManifest] = [], unreadable: [UnreadableManifest] = []) {
        self.manifests = manifests
        self.unreadable = unreadable
    }
}

/// A manifest that could not be read from a region (not a valid manifest, or its read failed):
/// the backup its key names is affected there, the region's other backups are not.
public struct UnreadableManifest: Error, CustomStringConvertible, Sendable {
    public let key: String
    public let region: String
    public let error: any Error

    public init(key: String, region: String, error: any Error) {
        self.key = key
        self.region = region
        self.error = error
    }

    /// The target and backup id the key names (`manifests/<target>/<backup-id>.json`).
    public var target: String { String(key.split(separator: "/").dropFirst().dropLast().joined(separator: "/")) }
    public var backupID: String { String((key.split(separator: "/").last ?? "").dropLast(".json".count)) }

    public var description: String {
        if error is RepositoryError { return "\(error)" }
        return "cannot read '\(key)' in region '\(region)': \(error)"
    }
}

public enum RepositoryError: Error, CustomStringConvertible {
    case unreadable(what: String, region: String, reason: String)
    case newerFormat(what: String, version: Int, supported: Int, region: String)
    /// Read, but breaking a readers' rule (docs/FORMAT.md, "Readers' rules"): drctl never
    /// writes it, so it is not believed.
    case refused(what: String, region: String, reason: String)
    /// A document whose authentication failed (docs/FORMAT.md, "What version 2 readers refuse"):
    /// planted, altered or moved. Treated as absent, and `prune` removes nothing while one is there.
    case unauthenticated(what: String, region: String, failure: SealFailure)

    public var description: String {
        switch self {
        case .unreadable(let what, let region, let reason):
            return "cannot read '\(what)' in region '\(region)': \(reason)"
        case .newerFormat(let what, let version, let supported, let region):
            return "'\(what)' in region '\(region)' has format version \(version); this drctl reads up to \(supported): upgrade drctl"
        case .refused(let what, let region, let reason):
            return "refused '\(what)' in region '\(region)': \(reason) (docs/FORMAT.md, \"Readers' rules\")"
        case .unauthenticated(let what, let region, let failure):
            return "refused '\(what)' in region '\(region)': \(failure)"
        }
    }
}
