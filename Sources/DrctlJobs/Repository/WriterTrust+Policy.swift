import DrctlCrypto
import DrctlPolicy
import DrctlStorage

extension WriterTrust {
    /// The writers the policy's keys name (docs/FORMAT.md, "Writer signature") and its pinned
    /// repository id: `encryption.writers`, and the secret key's derived writer key when the
    /// policy names a secret key. Keys that cannot be loaded here leave version 2 documents
    /// uncheckable, with the reason, instead of failing commands that read version 1
    /// repositories; the public key plays no part.
    init(_ policy: RepositoryPolicy) {
        self.init(writers: Result {
            let listed = try policy.encryption.writers.map { try WriterKey.load(path: $0) }
            let derived = try policy.encryption.keyFile.map { SigningKey(derivedFrom: try SecretKey.load(path: $0)).writerKey }
            return listed + (derived.map { [$0] } ?? [])
        }, pinnedRepositoryID: policy.id)
    }
}
