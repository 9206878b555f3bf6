import Foundation

/// What a repository is, from its regions' `repository.json` (docs/FORMAT.md, "Identity:
/// repository id and target"): version 2 with one id held by every region that has one, or
/// version 1. Judged across regions, so one region whose marker was replaced or removed does
/// not turn the repository back to version 1 while another region says otherwise.
public struct RepositoryIdentity: Sendable, Equatable {
    /// nil: a version 1 repository.
    public let repositoryID: String?
    /// Until when a version 1 document can be genuine (`RepositoryMarker.versionOneBefore`);
    /// nil: never.
    public let versionOneBefore: Date?

    public static let versionOne = RepositoryIdentity(repositoryID: nil, versionOneBefore: .distantFuture)

    public init(repositoryID: String?, versionOneBefore: Date?) {
        self.repositoryID = repositoryID
        self.versionOneBefore = versionOneBefore
    }

    /// The identity the regions' markers give (a region's marker is nil when it has none),
    /// checked against the policy's `repository.id` when it pins one; nil when no region has a
    /// marker yet. Regions naming different ids, or another id than the pin, are an error
    /// naming each.
    public static func of(markers: [(region: String, marker: RepositoryMarker?)], pinned: String?) throws -> RepositoryIdentity? {
        let versionTwo = markers.compactMap { entry in entry.marker?.repositoryID.map { (entry.region, $0, entry.marker!) } }
        let ids = Set(versionTwo.map(\.1))
        if ids.count > 1 {
            throw IdentityError.regionsDisagree(versionTwo.map { "region '\($0.0)' holds \($0.1)" })
        }
        if let pinned, let found = versionTwo.first(where: { $0.1 != pinned }) {
            throw IdentityError.notPinned(region: found.0, found: found.1, pinned: pinned)
        }
        guard let id = ids.first else {
            guard markers.contains(where: { $0.marker != nil }) else { return nil }
            if let pinned { throw IdentityError.pinnedButVersionOne(pinned: pinned) }
            return .versionOne
        }
        let upgrades = versionTwo.compactMap(\.2.upgradedAt)
        return RepositoryIdentity(repositoryID: id, versionOneBefore: upgrades.min())
    }
}

public enum IdentityError: Error, CustomStringConvertible {
    case regionsDisagree([String])
    case notPinned(region: String, found: String, pinned: String)
    case pinnedButVersionOne(pinned: String)

    public var description: String {
        switch self {
        case .regionsDisagree(let regions):
            return "the regions' repository.json name different repository ids (\(regions.joined(separator: ", "))): "
                + "they are not one repository; pin the right one in the policy (repository.id) and move the other region's data away"
        case .notPinned(let region, let found, let pinned):
            return "region '\(region)' holds repository \(found), but the policy pins repository.id \(pinned): "
                + "the region belongs to another repository, or its repository.json was replaced"
        case .pinnedButVersionOne(let pinned):
            return "the policy pins repository.id \(pinned), but the repository is version 1 (no id): run `drctl repository upgrade`"
        }
    }
}
