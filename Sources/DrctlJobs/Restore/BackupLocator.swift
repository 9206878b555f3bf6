import Foundation
import DrctlStorage
import Logging

/// Finds a backup's manifest and the regions that hold it, reading the regions themselves.
struct BackupLocator {
    let repository: Repository
    let logger: Logger

    struct Located {
        /// Each region's own copy of the manifest, in read order: a copy damaged in one region
        /// (which may read as valid JSON) must not decide how the others are read.
        let copies: [ManifestCopy]
        /// The first region's copy: what the backup is (id, time, kind, objects).
        var manifest: BackupManifest { copies[0].manifest }
        /// Regions holding a readable copy of the manifest, in read order.
        var regions: [Region] { copies.map(\.region) }
    }

    /// Every backup of `target` that `regions` list, each with the regions that hold it: read
    /// once, asked as often as needed (a drill wants the newest, the one it restores and the
    /// candidates of a random pick). Throws only when no region could be read.
    struct Catalog {
        let target: String
        let backups: [String: Located]
        /// Manifests that could not be read, by backup id: only their own backups are affected.
        let unreadable: [String: [UnreadableManifest]]

        var manifests: [BackupManifest] { backups.values.map(\.manifest) }

        func newest() throws -> Located {
            guard let newest = backups.keys.max() else { throw JobError.noBackups(target: target) }
            return backups[newest]!
        }

        func backup(_ id: String) throws -> Located {
            guard BackupID(id) != nil else { throw JobError.invalidBackupID(id) }
            guard let located = backups[id] else {
                if let failures = unreadable[id] {
                    throw RegionsExhausted(operation: "reading the manifest of backup \(id)", failures: failures)
                }
                throw JobError.backupNotFound(target: target, backup: id)
            }
            return located
        }

        /// The newest backup whose consistent point is at or before `time`.
        func newest(notAfter time: Date) throws -> Located {
            let candidates = backups.filter { $0.value.manifest.consistentPoint.time <= time }
            guard let best = candidates.max(by: {
                ($0.value.manifest.consistentPoint.time, $0.key) < ($1.value.manifest.consistentPoint.time, $1.key)
            }) else {
                let oldest = backups.values.map(\.manifest.consistentPoint.time).min()
                throw JobError.noBackupBefore(target: target, time: time, oldest: oldest)
            }
            return best.value
        }
    }

    func catalog(target: String, regions: [Region]) throws -> Catalog {
        try read(target: target, regions: regions) { region in try repository.manifests(in: region, target: target) }
    }

    /// The backup `id` of `target`; else its newest backup whose consistent point is at or
    /// before `notAfter` (when given); else its newest backup.
    func locate(target: String, id: String?, notAfter: Date? = nil, regions: [Region]) throws -> Located {
        guard let id else {
            let catalog = try catalog(target: target, regions: regions)
            return try notAfter.map { try catalog.newest(notAfter: $0) } ?? catalog.newest()
        }
        guard let wanted = BackupID(id) else { throw JobError.invalidBackupID(id) }
        // One backup: one read per region instead of a listing (absent: not found there).
        let key = RepositoryLayout.manifestKey(target: target, backup: wanted)
        return try read(target: target, regions: regions) { region in
            do {
                return RegionManifests(manifests: [try repository.manifest(at: key, in: region)])
            } catch StorageError.notFound {
                return RegionManifests()
            } catch {
                return RegionManifests(unreadable: [UnreadableManifest(key: key, region: region.name, error: error)])
            }
        }.backup(id)
    }

    /// The manifests `manifests` finds in each region, merged; a region that cannot be listed is
    /// skipped with a warning unless none can, and so is a manifest that cannot be read.
    private func read(target: String, regions: [Region], _ manifests: (Region) throws -> RegionManifests) throws -> Catalog {
        var found: [String: Located] = [:]
        var unreadable: [String: [UnreadableManifest]] = [:]
        var failures: [Error] = []
        for region in regions {
            do {
                let listed = try manifests(region)
                for manifest in listed.manifests {
                    let copy = ManifestCopy(region: region, manifest: manifest)
                    found[manifest.backupID] = Located(copies: (found[manifest.backupID]?.copies ?? []) + [copy])
                }
                for damaged in listed.unreadable {
                    logger.warning("manifest unreadable or refused; its backup is read from the other regions",
                                   metadata: ["region": "\(region.name)", "key": "\(damaged.key)", "error": "\(damaged)"])
                    unreadable[damaged.backupID, default: []].append(damaged)
                }
            } catch {
                logger.warning("region unreadable", metadata: ["region": "\(region.name)", "error": "\(error)"])
                failures.append(RegionFailure(region: region.name, error: error))
            }
        }
        if !failures.isEmpty && failures.count == regions.count {
            throw RegionsExhausted(operation: "reading the manifests", failures: failures)
        }
        return Catalog(target: target, backups: found, unreadable: unreadable)
    }
}
