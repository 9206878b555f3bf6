import Logging
import DrctlPolicy
import DrctlStorage

/// The backups the regions hold, merged: one entry per backup with the regions that have
/// its manifest. Reads only the regions, never local state. A manifest that cannot be read is
/// reported by name (`unreadable`) and leaves its region's other backups listed. The regions
/// are read side by side (one thread each, as `check` reads them): a slow region costs its own
/// time, not the sum; the result is in policy order whichever answers first.
public struct ListJob: BlockingJob {
    public let target: String?

    public init(target: String?) {
        self.target = target
    }

    public struct Entry: Sendable {
        /// The first region's copy.
        public var manifest: BackupManifest { copies[0] }
        /// The regions holding a readable copy of the manifest, in policy order.
        public let regions: [String]
        /// Each of those regions' own copy (a copy may differ when it was altered).
        public let copies: [BackupManifest]
    }

    public struct Listing: Sendable {
        public let entries: [Entry]
        /// Regions that could not be listed, with the reason.
        public let unreachable: [RegionFailure]
        /// Manifests that could not be read; each affects only its own backup in its region.
        public let unreadable: [UnreadableManifest]
    }

    public func runBlocking(in context: JobContext) throws -> Listing {
        let (policy, logger) = (context.policy, context.logger)
        let repository = try Repository(readingPolicy: policy.repository)
        var entries: [String: Entry] = [:]
        var unreachable: [RegionFailure] = []
        var unreadable: [UnreadableManifest] = []
        let listings = BoundedReads.eachRegion(repository.regions) { [target] region in
            Result { try repository.manifests(in: region, target: target) }
        }
        for (region, listing) in zip(repository.regions, listings) {
            do {
                let listed = try listing.get()
                for manifest in listed.manifests {
                    let key = "\(manifest.target)/\(manifest.backupID)"
                    entries[key] = Entry(regions: (entries[key]?.regions ?? []) + [region.name],
                                         copies: (entries[key]?.copies ?? []) + [manifest])
                }
                for damaged in listed.unreadable {
                    logger.warning("manifest unreadable or refused", metadata: ["region": "\(region.name)", "key": "\(damaged.key)",
                                                                     "error": "\(damaged)"])
                }
                unreadable += listed.unreadable
            } catch {
                logger.warning("region unreadable", metadata: ["region": "\(region.name)", "error": "\(error)"])
                unreachable.append(RegionFailure(region: region.name, error: error))
            }
        }
        if !unreachable.isEmpty && unreachable.count == repository.regions.count {
            throw RegionsExhausted(operation: "listing backups", failures: unreachable)
        }
        let sorted = entries.values.sorted {
            ($0.manifest.target, $0.manifest.backupID) < ($1.manifest.target, $1.manifest.backupID)
        }
        return Listing(entries: sorted, unreachable: unreachable, unreadable: unreadable)
    }
}
