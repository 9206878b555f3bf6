import Foundation
import DrctlCrypto
import DrctlStorage

/// Rewrites a stored manifest the way drctl itself would have written it, for tests that need a
/// backup of another age, or one a writer made without some field: the change is made to the
/// decoded manifest, the data key is unwrapped with the sandbox's secret key and wrapped again
/// for the (possibly new) target and id, and a version 2 manifest is sealed again with the
/// signing key derived from that secret key. A test that simulates an attacker edits the bytes
/// instead (`PlantedJSON`), and is refused.
enum ManifestRewriter {
    /// Rewrites `manifests/<target>/<file>` in the region directory `region`; the rewritten
    /// manifest is written to the key its new target and id give (the old file is removed).
    @discardableResult
    static func rewrite(_ path: String, region: String, keyFile: String,
                        _ change: (inout BackupManifest) throws -> Void) throws -> BackupManifest {
        try rewrite(path, region: region, keyFile: keyFile) { manifest, _ in try change(&manifest) }
    }

    /// The same, `change` given the backup's data key too (to seal an object again: `ObjectResealer`).
    @discardableResult
    static func rewrite(_ path: String, region: String, keyFile: String,
                        _ change: (inout BackupManifest, DataKey) throws -> Void) throws -> BackupManifest {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let original = try BackupManifest.decode(bytes)
        let secret = try SecretKey.load(path: keyFile)
        let repositoryID = try repositoryID(of: region)
        let binding: WrapBinding = original.version >= 2
            ? .versionTwo(repositoryID: repositoryID ?? "", target: original.target, backupID: original.backupID)
            : .versionOne(backupID: original.backupID)
        let dataKey = try KeyWrap.unwrap(original.encryption.dataKey, with: secret, binding: binding)
        var manifest = original
        try change(&manifest, dataKey)
        manifest.rawSize = manifest.objects.reduce(0) { $0 + $1.rawSize }
        manifest.storedSize = manifest.objects.reduce(0) { $0 + $1.storedSize }
        let sealed = original.version >= 2 ? repositoryID : nil
        let newBinding: WrapBinding = sealed.map {
            .versionTwo(repositoryID: $0, target: manifest.target, backupID: manifest.backupID)
        } ?? .versionOne(backupID: manifest.backupID)
        manifest.encryption.dataKey = original.encryption.dataKey.scheme == .x25519
            ? KeyWrap.wrapForRecipient(dataKey, to: secret.publicKey, binding: newBinding)
            : KeyWrap.wrapSymmetric(dataKey, with: secret, binding: newBinding)
        let stored = try sealed.map { try manifest.seal(repositoryID: $0, signingKey: SigningKey(derivedFrom: secret), dataKey: dataKey) }
            ?? manifest.encoded()
        try FileManager.default.removeItem(atPath: path)
        let key = RepositoryLayout.manifestKey(target: manifest.target, backup: try requireID(manifest))
        try FileManager.default.createDirectory(atPath: "\(region)/\((key as NSString).deletingLastPathComponent)",
                                                withIntermediateDirectories: true)
        try Data(stored).write(to: URL(fileURLWithPath: "\(region)/\(key)"))
        return manifest
    }

    /// The repository id in the region's repository.json; nil for a version 1 repository.
    static func repositoryID(of region: String) throws -> String? {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(region)/repository.json"))
        let marker = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        return marker?["repository_id"] as? String
    }

    private static func requireID(_ manifest: BackupManifest) throws -> BackupID {
        guard let id = manifest.id else { throw CocoaError(.fileWriteInvalidFileName) }
        return id
    }
}
