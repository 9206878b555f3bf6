import DrctlStorage

/// What the repository remembers about one target over a period, merged over every region:
/// a record or manifest that one region lacks is taken from another, each read once (from the
/// first region in policy order that lists it) and deduplicated by id.
public struct TargetHistory: Sendable {
    public var drills: [DrillRecord]
    public var failures: [FailureRecord]
    /// Manifests of backups started before the period's end, oldest first.
    public var backups: [BackupManifest]
    /// Which backups each region holds (nil when the region could not be listed).
    public var holdings: [RegionHoldings]
    /// Manifests and records the readers' rules refused (docs/FORMAT.md, "Readers' rules"):
    /// left out of the history, each named here for a warning.
    public var refused: [RepositoryError] = []
}

public struct RegionHoldings: Sendable {
    public var region: String
    /// Ids of the backups whose manifest the region holds; nil when it could not be listed.
    public var backupIDs: Set<String>?
    public var error: String?
}

/// Reads `TargetHistory` from a repository. Any region that answers is enough; a region that
/// cannot be listed is reported in `holdings`, never silently. A record or manifest that
/// cannot be decoded is an error naming it (`RepositoryError.unreadable`): a report must not
/// quietly leave out history. One the readers' rules refuse is not history (drctl never wrote
/// it): it is left out and named in `refused`, so planting one cannot stop the report.
struct TargetHistoryReader {
    let repository: Repository
    /// Ids (time-ordered strings) of the records to read: `from <= id < to`.
    let from: String
    let to: String

    func read(target: String) throws -> TargetHistory {
        let drillsPrefix = RepositoryLayout.recordsPrefix(DrillRecord.self, target: target)
        let failuresPrefix = RepositoryLayout.recordsPrefix(FailureRecord.self, target: target)
        let manifestsPrefix = RepositoryLayout.manifestsPrefix(target: target)

        var listings: [(region: Region, drills: [String], failures: [String], manifests: [String])] = []
        var holdings: [RegionHoldings] = []
        var failures: [Error] = []
        let listed = BoundedReads.eachRegion(repository.regions) { [self] region in
            Result { (try ids(under: drillsPrefix, in: region), try ids(under: failuresPrefix, in: region),
                      try ids(under: manifestsPrefix, in: region)) }
        }
        for (region, listing) in zip(repository.regions, listed) {
            do {
                let (drills, failed, manifests) = try listing.get()
                listings.append((region, drills, failed, manifests))
                holdings.append(RegionHoldings(region: region.name, backupIDs: Set(manifests.filter { $0 < to })))
            } catch let error as RepositoryError {
                throw error
            } catch {
                failures.append(RegionFailure(region: region.name, error: error))
                holdings.append(RegionHoldings(region: region.name, backupIDs: nil, error: "\(error)"))
            }
        }
        if listings.isEmpty {
            throw RegionsExhausted(operation: "reading the history of target '\(target)'", failures: failures)
        }

        var refused: [RepositoryError] = []
        let drills = try merged(listings.map { ($0.region, $0.drills.filter { $0 >= from && $0 < to }) }, refused: &refused) { id, region in
            try repository.record(DrillRecord.self, at: drillsPrefix + id + ".json", in: region)
        }
        let failed = try merged(listings.map { ($0.region, $0.failures.filter { $0 >= from && $0 < to }) }, refused: &refused) { id, region in
            try repository.record(FailureRecord.self, at: failuresPrefix + id + ".json", in: region)
        }
        let backups = try merged(listings.map { ($0.region, $0.manifests.filter { $0 < to }) }, refused: &refused) { id, region in
            try repository.manifest(at: manifestsPrefix + id + ".json", in: region)
        }
        return TargetHistory(drills: drills, failures: failed.filter(\.isBackupFailure), backups: backups, holdings: holdings, refused: refused)
    }

    /// The ids of the `.json` objects under `prefix`. A name that is not an id is a misplaced
    /// object: reported, not skipped.
    private func ids(under prefix: String, in region: Region) throws -> [String] {
        try region.store.list(prefix: prefix).compactMap { info -> String? in
            guard info.key.hasSuffix(".json") else { return nil }
            let id = String(info.key.dropFirst(prefix.count).dropLast(".json".count))
            guard BackupID(id) != nil else {
                throw RepositoryError.unreadable(what: info.key, region: region.name,
                                                 reason: "its name is not a drctl id (like 20261122T051008.412Z-3f9a1c)")
            }
            return id
        }
    }

    /// Each id once, read from the first region listing it; a region whose copy cannot be
    /// fetched (storage error) gives way to the next, and so does one the readers' rules refuse
    /// (named in `refused`; refused everywhere, the id is left out). Oldest first.
    private func merged<T>(_ listed: [(Region, [String])], refused: inout [RepositoryError],
                           read: (String, Region) throws -> T) throws -> [T] {
        var holders: [String: [Region]] = [:]
        for (region, ids) in listed {
            for id in ids { holders[id, default: []].append(region) }
        }
        return try holders.keys.sorted().compactMap { id in
            var errors: [Error] = []
            var refusedEverywhere = true
            for region in holders[id]! {
                do {
                    return try read(id, region)
                } catch let error as RepositoryError {
                    if case .refused = error {
                        refused.append(error)
                        continue
                    }
                    throw error
                } catch {
                    refusedEverywhere = false
                    errors.append(RegionFailure(region: region.name, error: error))
                }
            }
            if refusedEverywhere { return nil }
            throw RegionsExhausted(operation: "reading '\(id)'", failures: errors)
        }
    }
}
