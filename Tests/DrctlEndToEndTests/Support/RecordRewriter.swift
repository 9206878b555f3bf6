import Foundation
import DrctlCrypto
import DrctlStorage

/// Writes records the way drctl itself writes them, for tests that need a record of another
/// age or content (as `ManifestRewriter` does for manifests): in a version 2 region signed for
/// its target and id, in a version 1 region unsigned. A test that simulates an attacker edits
/// the bytes instead (`PlantedJSON`), and is refused.
enum RecordRewriter {
    /// Rewrites the record at `path` in the region directory `region`, signed with the signing
    /// key derived from `keyFile` (symmetric mode, as the sandboxes' policies are).
    static func rewrite<R: RepositoryRecord>(_ type: R.Type, at path: String, region: String, keyFile: String,
                                             _ change: (inout R) throws -> Void) throws {
        var record = try ManifestCoding.decoder.decode(R.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        try change(&record)
        record.version = 1
        try FileManager.default.removeItem(atPath: path)
        try write(record, region: region, signingKey: SigningKey(derivedFrom: SecretKey.load(path: keyFile)))
    }

    /// Writes `record` into the region directory `region` where its target and id say, signed
    /// by `signingKey` when the region's repository is version 2; returns its key.
    @discardableResult
    static func write<R: RepositoryRecord>(_ record: R, region: String, signingKey: SigningKey) throws -> String {
        let identity = try ManifestRewriter.repositoryID(of: region).map { RepositoryIdentity(repositoryID: $0, versionOneBefore: nil) }
            ?? .versionOne
        let bytes = try SignedDocuments(identity: identity, signingKey: .success(signingKey), writers: .failure(SignedDocuments.ReadOnly()))
            .stored(record, kind: R.documentKind, target: record.target, id: record.recordID)
        let key = RepositoryLayout.recordKey(record)
        try LocalDirectoryStore(root: region).put(key, bytes: bytes)
        return key
    }
}
