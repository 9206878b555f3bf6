import Logging
import DrctlPolicy
import DrctlStorage

/// The backups the regions hold, merged: one entry per backup with the regions that have
/// its manifest. Reads only the regions, never local state.
public struct ListJob: Sendable {
    public let policy: Policy
    public let target: String?
    public let logger: Logger

    public init(policy: Policy, target: String?, logger: Logger) {
        self.policy = policy
        self.target = target
        self.logger = logger
    }

    public struct Entry: Sendable {
        public let manifest: BackupManifest
        public let regions: [String]
    }

    public struct Listing: Sendable {
        public let entries: [Entry]
        /// Regions that could not be read, with the reason.
        public let unreachable: [RegionFailure]
    }

    public func run() throws -> Listing {
        let repository = try Repository(policy: policy.repository)
        var entries: [String: Entry] = [:]
        var unreachable: [RegionFailure] = []
        for region in repository.regions {
            do {
                for manifest in try repository.manifests(in: region, target: target) {
                    let key = "\(manifest.target)/\(manifest.backupID)"
                    let regions = (entries[key]?.regions ?? []) + [region.name]
                    entries[key] = Entry(manifest: entries[key]?.manifest ?? manifest, regions: regions)
                }
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
        return Listing(entries: sorted, unreachable: unreachable)
    }
}
