import DrctlCrypto
import DrctlStorage
import Logging

/// One region's copy of a backup's manifest. Each region is read with its own copy, so a copy
/// altered in one region (its wrapped data key, a size, a digest) fails that region only, as
/// damaged data does, and the next region is read with its intact copy.
struct ManifestCopy {
    let region: Region
    let manifest: BackupManifest

    /// The data key this copy's wrapped key unwraps to, once the copy's MAC (version 2) shows
    /// that no byte of it changed since it was written: only then are its fields used.
    func dataKey(_ keys: KeyRing) throws -> DataKey {
        let dataKey = try keys.unwrap(manifest.encryption.dataKey, binding: manifest.wrapBinding)
        do {
            try manifest.checkMAC(dataKey: dataKey)
        } catch {
            throw RepositoryError.refused(what: manifestKey, region: region.name, reason: "\(error)")
        }
        return dataKey
    }

    /// The copy's record of `object` (by name).
    func object(named name: String) throws -> StoredObject {
        guard let object = manifest.objects.first(where: { $0.name == name }) else {
            throw RepositoryError.unreadable(what: manifestKey, region: region.name,
                                             reason: "this copy of the manifest does not list the object '\(name)' that another copy lists")
        }
        return object
    }

    var manifestKey: String {
        manifest.id.map { RepositoryLayout.manifestKey(target: manifest.target, backup: $0) } ?? manifest.backupID
    }
}

/// A region to restore a backup from: its copy of the manifest and the data key that copy
/// unwraps to, or why it does not.
struct RestoreSource {
    let copy: ManifestCopy
    let dataKey: Result<DataKey, Error>

    /// Every copy with its data key, unwrapped before anything is restored (a missing key fails
    /// before a server is touched). A copy whose wrapped key does not authenticate was altered:
    /// its region is skipped, named in a warning. A problem of this host's keys (no secret key,
    /// another key) is every copy's and is thrown, and so is every copy being damaged.
    static func unwrapping(_ copies: [ManifestCopy], keys: KeyRing, logger: Logger) throws -> [RestoreSource] {
        var damaged: [Error] = []
        let sources = try copies.map { copy in
            do {
                return RestoreSource(copy: copy, dataKey: .success(try copy.dataKey(keys)))
            } catch where IntegrityFailure.describes(error) {
                logger.warning("the region's copy of the manifest is damaged; reading the other regions' copies",
                               metadata: ["region": "\(copy.region.name)", "manifest": "\(copy.manifestKey)", "error": "\(error)"])
                damaged.append(RegionFailure(region: copy.region.name, error: error))
                return RestoreSource(copy: copy, dataKey: .failure(error))
            }
        }
        if damaged.count == copies.count, let first = copies.first {
            throw RegionsExhausted(operation: "unwrapping the data key of backup \(first.manifest.backupID)", failures: damaged)
        }
        return sources
    }
}
