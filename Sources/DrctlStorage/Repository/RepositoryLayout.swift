/// Where each thing lives inside a region (see docs/FORMAT.md, "Layout").
///
///     repository.json                               format marker, written once
///     manifests/<target>/<backup-id>.json           a backup's manifest: its commit point
///     data/<target>/<backup-id>/<object>            the sealed, compressed objects
public enum RepositoryLayout {
    public static let marker = "repository.json"

    public static func manifestsPrefix(target: String) -> String { "manifests/\(target)/" }

    public static func manifestKey(target: String, backup: BackupID) -> String {
        "manifests/\(target)/\(backup).json"
    }

    public static func dataPrefix(target: String, backup: BackupID) -> String {
        "data/\(target)/\(backup)/"
    }

    public static func dataKey(target: String, backup: BackupID, object: String) -> String {
        "data/\(target)/\(backup)/\(object)"
    }
}
