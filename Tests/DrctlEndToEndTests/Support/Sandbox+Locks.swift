import Foundation
import DrctlStorage

extension Sandbox {
    /// `files(under:)` without the target locks (`locks/`), which every backup leaves released
    /// behind it, failed or not (docs/FORMAT.md, "Lock").
    func filesExceptLocks(under directory: String) -> [String] {
        files(under: directory).filter { !$0.hasPrefix("locks/") }
    }

    /// What backups stored: `files(under:)` without locks and without the history a failed run
    /// leaves on purpose (`records/`, docs/FORMAT.md, "Failure record").
    func backupFiles(under directory: String) -> [String] {
        filesExceptLocks(under: directory).filter { !$0.hasPrefix("records/") }
    }

    /// Writes the lock generation `json` into the sandbox's region as a drctl run of this
    /// repository on another host (holding the same keys) writes it: the region prepared as
    /// that run prepares it (a version 2 repository.json when there is none), then the
    /// generation signed with the sandbox's signing key for `target` and `generation`.
    func plantLock(_ json: String, target: String = "t", generation: Int) throws {
        let region = Region(name: "local", store: LocalDirectoryStore(root: repository))
        let repository = Repository(regions: [region])
        _ = try repository.prepare([region], toolVersion: "test")
        let record = try ManifestCoding.decoder.decode(LockRecord.self, from: Data(json.utf8))
        let bytes = try repository.signedDocuments(signingKey: signingKey)
            .stored(record, kind: .lock, target: target, id: RepositoryLayout.lockID(generation: generation))
        try region.store.put(RepositoryLayout.lockKey(target: target, generation: generation), bytes: bytes)
    }
}
