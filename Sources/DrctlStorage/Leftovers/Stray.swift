import Foundation

/// Something a store holds that is not an object: a temporary file of an interrupted write (a
/// directory store), an upload that was neither completed nor aborted (S3). Never listed as an
/// object; `prune` removes strays once they are older than the grace period.
public struct Stray: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case temporaryFile = "temporary_file"
        case unfinishedUpload = "unfinished_upload"
    }

    public var kind: Kind
    /// The temporary file's path relative to the store's root, or the key the upload was for.
    public var key: String
    /// When it was last written (temporary file) or started (upload).
    public var since: Date
    /// What the store needs to remove it (the S3 upload id).
    public var handle: String

    public init(kind: Kind, key: String, since: Date, handle: String = "") {
        self.kind = kind
        self.key = key
        self.since = since
        self.handle = handle
    }
}

/// A store that can leave strays behind, and find and remove them.
public protocol StrayCleaning: Sendable {
    /// Strays whose key starts with `prefix`.
    func strays(under prefix: String) throws -> [Stray]
    func remove(_ stray: Stray) throws
}
