import Foundation
import DrctlStorage

/// Errors of the jobs themselves (the stages below have their own).
public enum JobError: Error, CustomStringConvertible {
    case noKey
    case secretKeyNeeded(publicKeyPath: String?)
    case keyMismatch(secret: String, secretID: String, public: String, publicID: String)
    case signingKeyNeeded(publicKeyPath: String?)
    case unlistedWriter(signingKeyPath: String, signerID: String)
    case wrapSchemeNotPinned(found: String, pinned: String)
    case unknownTarget(String, known: [String])
    case unsupportedKind(target: String, kind: String)
    case noBackups(target: String)
    case backupNotFound(target: String, backup: String)
    case noBackupBefore(target: String, time: Date, oldest: Date?)
    case invalidBackupID(String)
    case destinationExists(String)
    case needsDirectory(backup: String, objects: Int)
    case invalidDestination(url: String, reason: String)
    case noCredentials(region: String, searched: String)
    case unknownRegion(String, known: [String])
    case sizeMismatch(object: String, expected: UInt64, actual: UInt64)
    case interrupted(signal: String)

    public var description: String {
        switch self {
        case .noKey:
            return "the policy names no encryption key (encryption.key_file or encryption.public_key_file)"
        case .secretKeyNeeded(let publicKeyPath):
            let have = publicKeyPath.map { "this host has only the public key \($0), which can create backups but not read them" }
                ?? "the policy names no secret key"
            return "\(have); reading backups needs the secret key: set encryption.key_file or pass --key FILE"
        case .keyMismatch(let secret, let secretID, let publicPath, let publicID):
            return "encryption.key_file \(secret) (key \(secretID)) and encryption.public_key_file \(publicPath) (key \(publicID)) are not a pair"
        case .signingKeyNeeded(let publicKeyPath):
            let have = publicKeyPath.map { " (this host holds the public key \($0) and no secret key)" } ?? ""
            return "public-key mode needs this host's signing key\(have): drctl keygen --signing --out FILE --public-out "
                + "FILE.writer, then encryption.signing_key_file: FILE, and list FILE.writer in encryption.writers on every host"
        case .unlistedWriter(let signingKeyPath, let signerID):
            return "encryption.signing_key_file \(signingKeyPath) (signer \(signerID)) is not among encryption.writers: "
                + "readers would refuse everything this host writes; list its writer key file (what `drctl keygen --signing "
                + "--public-out` wrote beside it) in encryption.writers on every host"
        case .wrapSchemeNotPinned(let found, let pinned):
            return "the backup's data key is wrapped with scheme \(found), but encryption.scheme pins \(pinned): "
                + "this repository's hosts never wrap so, so its manifest is refused as not theirs"
        case .unknownTarget(let name, let known):
            return "no target named '\(name)' in the policy (targets: \(known.joined(separator: ", ")))"
        case .unsupportedKind(let target, let kind):
            return "target '\(target)' is of kind '\(kind)', which this version of drctl cannot back up yet"
        case .noBackups(let target):
            return "target '\(target)' has no backups in any reachable region"
        case .noBackupBefore(let target, let time, let oldest):
            let have = oldest.map { "; its oldest backup reflects \(Timestamp.format($0))" } ?? "; it has no backups"
            return "target '\(target)' has no backup whose consistent point is at or before \(Timestamp.format(time))\(have)"
        case .backupNotFound(let target, let backup):
            return "backup '\(backup)' of target '\(target)' is not in any reachable region"
        case .invalidBackupID(let text):
            return "'\(text)' is not a backup id (they look like 20261122T051008.412Z-3f9a1c)"
        case .needsDirectory(let backup, let objects):
            return "backup \(backup) has \(objects) objects: restore it into a directory (--to DIR), not standard output"
        case .noCredentials(let region, let searched):
            return "region '\(region)': no S3 credentials found (looked at \(searched))"
        case .invalidDestination(let url, let reason):
            return "cannot restore to \(url): \(reason)"
        case .destinationExists(let path):
            return "\(path) already exists; restore never overwrites data unless you pass --force"
        case .unknownRegion(let name, let known):
            return "no region named '\(name)' in the policy (regions: \(known.joined(separator: ", ")))"
        case .sizeMismatch(let object, let expected, let actual):
            return "\(object) restored to \(actual) bytes but the manifest recorded \(expected)"
        case .interrupted(let signal):
            return "interrupted by \(signal)"
        }
    }
}
