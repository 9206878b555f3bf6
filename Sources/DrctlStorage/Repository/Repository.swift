import Foundation

/// The backups of one policy across its regions. Reads need no local state: everything is
/// found by listing the regions (docs/FORMAT.md, "Layout").
public struct Repository: Sendable {
    public let regions: [Region]

    public init(regions: [Region]) {
        self.regions = regions
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

    /// The manifests in one region, oldest first; `target` nil means every target.
    public func manifests(in region: Region, target: String? = nil) throws -> [BackupManifest] {
        let prefix = target.map(RepositoryLayout.manifestsPrefix) ?? "manifests/"
        return try region.store.list(prefix: prefix)
            .filter { $0.key.hasSuffix(".json") }
            .map { try manifest(at: $0.key, in: region) }
            .sorted { ($0.target, $0.backupID) < ($1.target, $1.backupID) }
    }

    public func manifest(target: String, backup: BackupID, in region: Region) throws -> BackupManifest {
        try manifest(at: RepositoryLayout.manifestKey(target: target, backup: backup), in: region)
    }

    /// A manifest read by its key and checked: format, version, and that it lies where its
    /// own target and id say it should.
    public func manifest(at key: String, in region: Region) throws -> BackupManifest {
        let bytes = try region.store.get(key)
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
        return manifest
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

    public var description: String {
        switch self {
        case .unreadable(let what, let region, let reason):
            return "cannot read '\(what)' in region '\(region)': \(reason)"
        case .newerFormat(let what, let version, let supported, let region):
            return "'\(what)' in region '\(region)' has format version \(version); this drctl reads up to \(supported): upgrade drctl"
        }
    }
}
