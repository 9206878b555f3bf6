import Foundation

/// The backups of one policy across its regions. Reads need no local state: everything is
/// found by listing the regions (docs/FORMAT.md, "Layout"). The manifests and records read may
/// be kept in `cache`, which only saves reading them again.
public struct Repository: Sendable {
    public let regions: [Region]
    /// Where manifests and records read from S3 are kept; nil: every read goes to the store.
    public let cache: ObjectCache?

    public init(regions: [Region], cache: ObjectCache? = nil) {
        self.regions = regions
        self.cache = cache
    }

    public func region(named name: String) -> Region? {
        regions.first { $0.name == name }
    }

    /// Writes `repository.json` into a region that has none; checks the version of one that has.
    public func prepare(_ region: Region, toolVersion: String) throws {
        if try marker(in: region) != nil { return }
        let marker = RepositoryMarker(createdAt: Date(), createdBy: "drctl \(toolVersion)")
        do {
            try region.store.put(RepositoryLayout.marker, bytes: try marker.encoded())
        } catch StorageError.alreadyExists {
            // Another agent initialised it at the same moment: fine.
        }
    }

    public func marker(in region: Region) throws -> RepositoryMarker? {
        let bytes: [UInt8]
        do {
            bytes = try region.store.get(RepositoryLayout.marker)
        } catch StorageError.notFound {
            return nil
        }
        let marker: RepositoryMarker
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
        return manifest
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

/// `repository.json`: marks a directory or prefix as a drctl repository and names its format.
public struct RepositoryMarker: Codable, Sendable {
    public static let formatName = "drctl-repository"
    public static let currentVersion = 1

    public var format = RepositoryMarker.formatName
    public var version = RepositoryMarker.currentVersion
    public var createdAt: Date
    public var createdBy: String

    enum CodingKeys: String, CodingKey {
        case format, version
        case createdAt = "created_at", createdBy = "created_by"
    }

    public init(createdAt: Date, createdBy: String) {
        self.createdAt = createdAt
        self.createdBy = createdBy
    }

    func encoded() throws -> [UInt8] { Array(try ManifestCoding.encoder.encode(self)) + [0x0a] }
}

public enum RepositoryError: Error, CustomStringConvertible {
    case unreadable(what: String, region: String, reason: String)
    case newerFormat(what: String, version: Int, supported: Int, region: String)
    /// Read, but breaking a readers' rule (docs/FORMAT.md, "Readers' rules"): drctl never
    /// writes it, so it is not believed.
    case refused(what: String, region: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let what, let region, let reason):
            return "cannot read '\(what)' in region '\(region)': \(reason)"
        case .newerFormat(let what, let version, let supported, let region):
            return "'\(what)' in region '\(region)' has format version \(version); this drctl reads up to \(supported): upgrade drctl"
        case .refused(let what, let region, let reason):
            return "refused '\(what)' in region '\(region)': \(reason) (docs/FORMAT.md, \"Readers' rules\")"
        }
    }
}
