import Foundation
import Logging
import DrctlStorage

/// What `check` reads of one target: each region's manifests, drill, failure and prune records
/// and newest lock, the regions read side by side (one thread each; a region's own reads go
/// `BoundedReads.perRegion` at a time). So check's wall time with several regions is about
/// one region's, and hung regions cost one read deadline together, not one each. Everything
/// comes back in policy order, whichever region answers first.
struct TargetReading: Sendable {
    var views: [TargetHealth.RegionView]
    var drills: MergedRecords<DrillRecord>
    var failures: MergedRecords<FailureRecord>
    var prunes: MergedRecords<PruneRecord>
    /// The target's locks that are not honoured, one message each.
    var lockProblems: [String]
    /// A physical target's WAL archive, region by region (nil for other targets).
    var wal: [WalReading]?

    /// One region's part.
    private struct RegionPart: Sendable {
        var view: TargetHealth.RegionView
        var drills: MergedRecords<DrillRecord>
        var failures: MergedRecords<FailureRecord>
        var prunes: MergedRecords<PruneRecord>
        var lockProblem: String?
        var wal: WalReading?
    }

    init(_ target: String, from repository: Repository, physical: Bool = false, logger: Logger) {
        let signing = Result { try repository.signedDocuments(signingKey: .failure(SignedDocuments.ReadOnly())) }
        let parts = BoundedReads.eachRegion(repository.regions) { region in
            Self.read(target, in: region, of: repository, signing: signing, physical: physical, logger: logger)
        }
        wal = physical ? parts.compactMap(\.wal) : nil
        views = parts.map(\.view)
        drills = Self.merged(parts.map(\.drills))
        failures = Self.merged(parts.map(\.failures))
        prunes = Self.merged(parts.map(\.prunes))
        switch signing {
        case .success: lockProblems = parts.compactMap(\.lockProblem)
        case .failure(let error): lockProblems = ["the target's locks were not checked: \(error)"]
        }
    }

    private static func read(_ target: String, in region: Region, of repository: Repository,
                             signing: Result<SignedDocuments, any Error>, physical: Bool, logger: Logger) -> RegionPart {
        let view: TargetHealth.RegionView
        do {
            let listed = try repository.manifests(in: region, target: target)
            view = TargetHealth.RegionView(region: region.name, manifests: listed.manifests, unreadable: listed.unreadable)
        } catch {
            logger.warning("region unreadable", metadata: ["region": "\(region.name)", "error": "\(error)"])
            view = TargetHealth.RegionView(region: region.name, error: "\(error)")
        }
        let alone = repository.with(regions: [region])
        return RegionPart(view: view, drills: alone.mergedRecords(DrillRecord.self, target: target),
                          failures: alone.mergedRecords(FailureRecord.self, target: target),
                          prunes: alone.pruneRecords(target: target),
                          lockProblem: (try? signing.get()).flatMap { lockProblem(target, in: region, signing: $0) },
                          wal: physical ? WalReading(target, in: region, of: repository) : nil)
    }

    /// The regions' records merged as `Repository.mergedRecords` merges them: a record found in
    /// several regions counts once (the first region's copy, in policy order), oldest first.
    private static func merged<R: RepositoryRecord>(_ parts: [MergedRecords<R>]) -> MergedRecords<R> {
        guard var merged = parts.first else { return Repository(regions: []).mergedRecords(R.self, target: "") }
        var byID = Dictionary(merged.records.map { ($0.recordID, $0) }, uniquingKeysWith: { first, _ in first })
        for part in parts.dropFirst() {
            for record in part.records where byID[record.recordID] == nil {
                byID[record.recordID] = record
            }
            merged.unreadable += part.unreadable
            merged.refused += part.refused
        }
        merged.records = byID.values.sorted { $0.recordID < $1.recordID }
        return merged
    }

    /// The region's newest lock of the target, when it is not honoured (docs/FORMAT.md,
    /// "Readers' rules", "Lock": the readers' rules, or a failed authentication): the next run
    /// takes such a lock over, but someone wrote it. A lock that cannot be read is left to the
    /// run that needs it.
    private static func lockProblem(_ target: String, in region: Region, signing: SignedDocuments) -> String? {
        guard let (key, lock) = try? TargetLock.newest(target: target, in: region, signing: signing),
              let refusal = lock.refusal(at: Date()) else { return nil }
        return "lock '\(key)' in region '\(region.name)' is not honoured: \(refusal) (held by \(lock.owner); "
            + "the next backup or prune takes it over)"
    }
}
