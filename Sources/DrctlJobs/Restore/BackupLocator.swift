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

    /// The backup `id` of `target`; else its newest backup whose consistent point is at or
    /// before `notAfter` (when given); else its newest backup.
    func locate(target: String, id: String?, notAfter: Date? = nil, regions: [Region]) throws -> Located {
        let wanted: BackupID?
        if let id {
            guard let parsed = BackupID(id) else { throw JobError.invalidBackupID(id) }
            wanted = parsed
        } else {
            wanted = nil
        }
        var found: [String: (manifest: BackupManifest, regions: [Region])] = [:]
        var failures: [Error] = []
        for region in regions {
            do {
                let manifests: [BackupManifest]
                if let wanted {
                    let key = RepositoryLayout.manifestKey(target: target, backup: wanted)
                    guard try region.store.stat(key) != nil else { continue }
                    manifests = [try repository.manifest(target: target, backup: wanted, in: region)]
                } else {
                    manifests = try repository.manifests(in: region, target: target)
                }
                for manifest in manifests {
                    found[manifest.backupID, default: (manifest, [])].regions.append(region)
                }
            } catch {
                logger.warning("region unreadable", metadata: ["region": "\(region.name)", "error": "\(error)"])
                failures.append(RegionFailure(region: region.name, error: error))
            }
        }
        if !failures.isEmpty && failures.count == regions.count {
            throw RegionsExhausted(operation: "reading the manifests", failures: failures)
        }
        if let notAfter {
            let candidates = found.filter { $0.value.manifest.consistentPoint.time <= notAfter }
            guard let best = candidates.max(by: {
                ($0.value.manifest.consistentPoint.time, $0.key) < ($1.value.manifest.consistentPoint.time, $1.key)
            }) else {
                let oldest = found.values.map(\.manifest.consistentPoint.time).min()
                throw JobError.noBackupBefore(target: target, time: notAfter, oldest: oldest)
            }
            return Located(manifest: best.value.manifest, regions: best.value.regions)
        }
        guard let newest = found.keys.max() else {
            if let id { throw JobError.backupNotFound(target: target, backup: id) }
            throw JobError.noBackups(target: target)
        }
        let entry = found[newest]!
        return Located(manifest: entry.manifest, regions: entry.regions)
    }
}
