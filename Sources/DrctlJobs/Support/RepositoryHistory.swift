import DrctlStorage

/// A target's history as the metrics count it, merged over every readable region.
enum RepositoryHistory {
    static func manifests(_ repository: Repository, target: String) -> [BackupManifest] {
        var byID: [String: BackupManifest] = [:]
        for region in repository.regions {
            for manifest in (try? repository.manifests(in: region, target: target)) ?? [] where byID[manifest.backupID] == nil {
                byID[manifest.backupID] = manifest
            }
        }
        return Array(byID.values)
    }
}
