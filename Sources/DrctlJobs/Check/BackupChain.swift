import DrctlStorage

/// The signed links between a target's version 2 backups (docs/FORMAT.md, "Chain and
/// deletions"): every manifest names the backup before it. A named backup that no readable
/// region holds, that no manifest refused in some region explains and that no signed prune
/// record removed, was deleted by someone else: a rollback or a deletion shows.
enum BackupChain {
    /// One message per gap. `manifests`: every readable region's manifests of the target;
    /// `present`: the ids some region holds a manifest of, believed or not; `pruned`: the ids
    /// signed prune records removed.
    static func gaps(in manifests: [BackupManifest], present: Set<String>, pruned: Set<String>) -> [String] {
        var named: [String: String] = [:]
        for manifest in manifests {
            guard case .signed = manifest.authenticity, let previous = manifest.previous else { continue }
            named[previous.backupID] = named[previous.backupID].map { min($0, manifest.backupID) } ?? manifest.backupID
        }
        return named.keys.sorted().compactMap { previous in
            guard !present.contains(previous), !pruned.contains(previous), let next = named[previous] else { return nil }
            return "backup \(previous), which backup \(next) names as its previous, is in no region and no signed prune "
                + "removed it: its manifest was deleted by something other than drctl prune"
        }
    }
}
