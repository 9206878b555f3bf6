/// Where a reader expects a version 2 document to belong: its repository, its target and its
/// id, taken from the key it was read from and the region's `repository.json`, never from the
/// document's own fields. A document moved to another target, id or repository therefore fails.
public struct DocumentAddress: Sendable, Equatable {
    public let kind: DocumentKind
    public let repositoryID: String
    public let target: String
    public let id: String

    public init(kind: DocumentKind, repositoryID: String, target: String, id: String) {
        self.kind = kind
        self.repositoryID = repositoryID
        self.target = target
        self.id = id
    }
}
