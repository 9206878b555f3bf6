import Foundation

/// `repository.json`: marks a directory or prefix as a drctl repository, names its format and,
/// from version 2, the repository's id (docs/FORMAT.md, "repository.json").
public struct RepositoryMarker: Codable, Sendable, Equatable {
    public static let formatName = "drctl-repository"
    public static let currentVersion = 2

    public var format = RepositoryMarker.formatName
    public var version: Int
    public var createdAt: Date
    public var createdBy: String
    /// Version 2: 16 random bytes as 32 lowercase hex characters, the same in every region;
    /// every authenticated document binds it. nil in a version 1 repository.
    public var repositoryID: String?
    /// Version 2 reached by `drctl repository upgrade`: when. A version 1 manifest or record
    /// is believed in a version 2 repository only if it is older than this.
    public var upgradedAt: Date?

    enum CodingKeys: String, CodingKey {
        case format, version
        case createdAt = "created_at", createdBy = "created_by"
        case repositoryID = "repository_id", upgradedAt = "upgraded_at"
    }

    /// A version 2 marker (`repositoryID` given) or a version 1 marker (nil).
    public init(createdAt: Date, createdBy: String, repositoryID: String?, upgradedAt: Date? = nil) {
        self.version = repositoryID == nil ? 1 : 2
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.repositoryID = repositoryID
        self.upgradedAt = upgradedAt
    }

    /// Until when version 1 documents can be genuine here: always in a version 1 repository,
    /// before the upgrade in an upgraded one, never in one created at version 2.
    public var versionOneBefore: Date? {
        guard repositoryID != nil else { return .distantFuture }
        return upgradedAt
    }

    /// A new repository id: 16 random bytes, hex.
    public static func newRepositoryID() -> String {
        (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    /// Whether `text` has the shape of a repository id.
    public static func isRepositoryID(_ text: String) -> Bool {
        text.utf8.count == 32 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    func encoded() throws -> [UInt8] { Array(try ManifestCoding.encoder.encode(self)) + [0x0a] }
}
