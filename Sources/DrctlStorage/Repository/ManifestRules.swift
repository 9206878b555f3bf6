import Foundation

/// The readers' rules for a backup manifest (docs/FORMAT.md, "Readers' rules"), applied by
/// `Repository.manifest(decoding:at:in:)` to every manifest read: one that breaks them is
/// refused there, and so is treated everywhere as an unreadable manifest (`UnreadableManifest`):
/// named, never counted by retention or `check`, never copied by sync, never restored.
public enum ManifestRules {
    /// The longest object name, in UTF-8 bytes (a file name's limit on every common filesystem).
    public static let maximumNameLength = 255

    /// Why `manifest` is refused at `now`, or nil when it keeps every rule.
    public static func violation(in manifest: BackupManifest, now: Date = Date()) -> String? {
        guard isTargetName(manifest.target) else {
            return "its target '\(manifest.target)' is not a target name (lowercase letters, digits, '-', '_', '.')"
        }
        guard let id = manifest.id else { return "its backup id '\(manifest.backupID)' is not a drctl id" }
        if let future = ReaderRules.futureTime([
            ("backup id", id.startedAt), ("started_at", manifest.startedAt), ("finished_at", manifest.finishedAt),
            ("consistent_point.time", manifest.consistentPoint.time),
        ], now: now) {
            return future
        }
        guard !manifest.objects.isEmpty else { return "it lists no objects: every backup has at least one" }
        var names = Set<String>()
        for object in manifest.objects {
            guard isObjectName(object.name) else {
                return "its object name '\(object.name)' is not a safe name (letters, digits, '.', '_' and '-', "
                    + "starting with a letter or digit, at most \(maximumNameLength) bytes)"
            }
            guard names.insert(object.name).inserted else { return "it names the object '\(object.name)' twice" }
            let key = RepositoryLayout.dataKey(target: manifest.target, backup: id, object: object.name)
            guard object.key == key else {
                return "its object '\(object.name)' has the key '\(object.key)', not '\(key)': "
                    + "a backup's objects lie under data/<target>/<backup_id>/"
            }
        }
        return nil
    }

    /// A name drctl writes (`stdout`, `dump.rdb`, `globals.sql`, `db-<n>-<name>.dump`, whose
    /// database name may hold any letters and digits): letters and digits of any script, `.`,
    /// `_` and `-`, starting with a letter or digit. So never `/`, a leading dot, `.` or `..`.
    public static func isObjectName(_ name: String) -> Bool {
        guard let first = name.first, first.isLetter || first.isNumber, name.utf8.count <= maximumNameLength else { return false }
        return name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-" }
    }

    /// A policy's target name: `[a-z0-9][a-z0-9_.-]*`.
    static func isTargetName(_ name: String) -> Bool {
        func lowerAlnum(_ c: Character) -> Bool { c.isASCII && (c.isLowercase || c.isNumber) }
        guard let first = name.first, lowerAlnum(first) else { return false }
        return name.allSatisfy { lowerAlnum($0) || $0 == "." || $0 == "_" || $0 == "-" }
    }
}
