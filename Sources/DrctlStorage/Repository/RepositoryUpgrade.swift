import Foundation

/// `drctl repository upgrade`: makes a version 1 repository version 2 (docs/FORMAT.md,
/// "Identity: repository id and target"), the one operation that replaces an existing object.
/// Each region's `repository.json` is replaced by a version 2 marker with one id (the policy's
/// pin, else the id a region already upgraded holds, else a new one) and `upgraded_at`, so the
/// version 1 backups made before stay readable, as unauthenticated. Run again after a partial
/// upgrade, it finishes the regions left and changes nothing in the others.
public struct RepositoryUpgrade: Sendable {
    public let repository: Repository
    public let toolVersion: String

    public init(repository: Repository, toolVersion: String) {
        self.repository = repository
        self.toolVersion = toolVersion
    }

    public struct Outcome: Sendable {
        public var repositoryID: String
        /// The regions whose marker was replaced (or written) now, and those already version 2.
        public var upgraded: [String] = []
        public var alreadyVersionTwo: [String] = []
    }

    /// Every region must be readable: an id chosen without one region's marker could differ
    /// from the one it holds.
    public func run(now: Date = Date()) throws -> Outcome {
        let markers = try repository.regions.map { region in (region, try repository.marker(in: region)) }
        let pinned = repository.trust.pinnedRepositoryID
        let held = markers.compactMap { entry in entry.1?.repositoryID.map { (entry.0.name, $0) } }
        if Set(held.map(\.1)).count > 1 {
            throw IdentityError.regionsDisagree(held.map { "region '\($0.0)' holds \($0.1)" })
        }
        if let pinned, let other = held.first(where: { $0.1 != pinned }) {
            throw IdentityError.notPinned(region: other.0, found: other.1, pinned: pinned)
        }
        let id = pinned ?? held.first?.1 ?? RepositoryMarker.newRepositoryID()
        let upgradedAt = markers.compactMap { $0.1?.repositoryID == nil ? nil : $0.1?.upgradedAt }.min() ?? now
        var outcome = Outcome(repositoryID: id)
        for (region, marker) in markers {
            if marker?.repositoryID != nil {
                outcome.alreadyVersionTwo.append(region.name)
                continue
            }
            let upgraded = RepositoryMarker(createdAt: marker?.createdAt ?? now, createdBy: marker?.createdBy ?? "drctl \(toolVersion)",
                                            repositoryID: id, upgradedAt: upgradedAt)
            if marker != nil { try region.store.delete(RepositoryLayout.marker) }
            try region.store.put(RepositoryLayout.marker, bytes: try upgraded.encoded())
            outcome.upgraded.append(region.name)
        }
        return outcome
    }
}
