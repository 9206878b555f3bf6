import Foundation
import DrctlStorage
import Logging

/// Finds a backup's manifest and the regions that hold it, reading the regions themselves.
struct BackupLocator {
    let repository: Repository
    let logger: Logger

    struct Located {
        let manifest: BackupManifest
        /// Regions holding the manifest, in read order.
        let regions: [Region]
    }

    /// Every backup of `target` that `regions` list, each with the regions that hold it: read
    /// once, asked as often as needed (a drill wants the newest, the one it restores and the
    /// candidates of a random pick). Throws only when no region could be read.
    struct Catalog {
        let target: String
        let backups: [String: Located]

        var manifests: [BackupManifest] { backups.values.map(\.manifest) }

        func newest() throws -> Located {
            guard let newest = backups.keys.max() else { throw JobError.noBackups(target: target) }
            return backups[newest]!
        }

        func backup(_ id: String) throws -> Located {
            guard BackupID(id) != nil else { throw JobError.invalidBackupID(id) }
            guard let located = backups[id] else { throw JobError.backupNotFound(target: target, backup: id) }
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
        // One backup: a stat and a read per region instead of a listing.
        let key = RepositoryLayout.manifestKey(target: target, backup: wanted)
        return try read(target: target, regions: regions) { region in
            guard try region.store.stat(key) != nil else { return [] }
            return [try repository.manifest(target: target, backup: wanted, in: region)]
        }.backup(id)
    }

    /// The manifests `manifests` finds in each region, merged; a region that cannot be read is
    /// skipped with a warning unless none can.
    private func read(target: String, regions: [Region], _ manifests: (Region) throws -> [BackupManifest]) throws -> Catalog {
        var found: [String: Located] = [:]
        var failures: [Error] = []
        for region in regions {
            do {
                for manifest in try manifests(region) {
                    let held = found[manifest.backupID]
                    found[manifest.backupID] = Located(manifest: held?.manifest ?? manifest, regions: (held?.regions ?? []) + [region])
                }
            } catch {
                logger.warning("region unreadable", metadata: ["region": "\(region.name)", "error": "\(error)"])
                failures.append(RegionFailure(region: region.name, error: error))
            }
        }
        if !failures.isEmpty && failures.count == regions.count {
            throw RegionsExhausted(operation: "reading the manifests", failures: failures)
        }
        return Catalog(target: target, backups: found)
    }
}
