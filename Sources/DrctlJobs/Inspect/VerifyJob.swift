import DrctlCrypto
import Logging
import DrctlPolicy
import DrctlStorage

/// Reads every stored byte of the selected backups in every region that holds them: checks
/// sizes and SHA-256 against the manifest, authenticates and decrypts every chunk,
/// decompresses, and compares the raw size. Restores nothing.
public struct VerifyJob: Job {
    public let target: String?
    public let backupID: String?

    public init(target: String?, backupID: String?) {
        self.target = target
        self.backupID = backupID
    }

    public struct Result: Sendable {
        public let target: String
        public let backupID: String
        public let region: String
        /// nil when every check passed.
        public let problem: String?
        public let error: (any Error)?
    }

    /// Needs the keys (`context.keys`): without them it fails before anything is read.
    public func run(in context: JobContext) async throws -> [Result] {
        let (policy, logger, progress, interruption) = (context.policy, context.logger, context.progress, context.interruption)
        let keys = try context.keys.get()
        // Every read bounded by its region's read deadline (`Region.bounded`): a data read that
        // receives nothing for that long gives the region up, named, for the rest of the run,
        // while a transfer that keeps moving is never cut. Unbounded, a region that hangs after
        // the listing held each object's read for the transport's stall timeout and retries.
        // Building the stores may fetch credentials (a web identity's, from STS): off the shared threads.
        let opened = try await OffPool.run { try Repository(policy: policy.repository, keys: keys) }
        let repository = opened.with(regions: opened.regions.map { $0.bounded() })
        let listing = try await JobRunner(context).run(ListJob(target: target))
        var selected = listing.entries
        var unreadable = listing.unreadable
        if let backupID {
            guard BackupID(backupID) != nil else { throw JobError.invalidBackupID(backupID) }
            selected = selected.filter { $0.manifest.backupID == backupID }
            unreadable = unreadable.filter { $0.backupID == backupID }
            if selected.isEmpty && unreadable.isEmpty {
                throw JobError.backupNotFound(target: target ?? "any", backup: backupID)
            }
        }
        if selected.isEmpty && unreadable.isEmpty, let target { throw JobError.noBackups(target: target) }

        // What cannot be read is a failed verification, never a silent skip: a region that
        // cannot be listed, and each manifest that cannot be read (its region's other backups
        // are verified).
        var results = listing.unreachable.map {
            Result(target: target ?? "*", backupID: backupID ?? "*", region: $0.region,
                   problem: "cannot list the region's backups: \($0.error)", error: $0.error)
        }
        results += unreadable.map {
            Result(target: $0.target, backupID: $0.backupID, region: $0.region, problem: "\($0)", error: $0)
        }
        for entry in selected {
            for (regionName, manifest) in zip(entry.regions, entry.copies) {
                guard let region = repository.region(named: regionName) else { continue }
                // Each region is checked against its own copy of the manifest: an intact copy
                // never fails because another region's differs. A copy whose data key does not
                // authenticate fails its region; a problem of this host's key fails the run.
                let copy = ManifestCopy(region: region, manifest: manifest)
                let dataKey: Swift.Result<DataKey, Error>
                do {
                    dataKey = .success(try copy.dataKey(keys))
                } catch where IntegrityFailure.describes(error) {
                    dataKey = .failure(error)
                }
                do {
                    let dataKey = try dataKey.get()
                    for object in manifest.objects {
                        try await ObjectRestore(manifest: manifest, object: object, dataKey: dataKey, region: region, checksDigest: true)
                            .run(into: DiscardingSink(), progress: progress,
                                 label: "verify \(manifest.target) \(regionName)", interruption: interruption)
                    }
                    results.append(Result(target: manifest.target, backupID: manifest.backupID,
                                          region: regionName, problem: nil, error: nil))
                    logger.info("verified", metadata: ["backup": "\(manifest.backupID)", "region": "\(regionName)"])
                } catch let error as JobError {
                    if case .interrupted = error { throw error }
                    results.append(Result(target: manifest.target, backupID: manifest.backupID,
                                          region: regionName, problem: "\(error)", error: error))
                } catch {
                    logger.error("verification failed", metadata: [
                        "backup": "\(manifest.backupID)", "region": "\(regionName)", "error": "\(error)",
                    ])
                    results.append(Result(target: manifest.target, backupID: manifest.backupID,
                                          region: regionName, problem: "\(error)", error: error))
                }
            }
        }
        // By backup, then region in policy order.
        let order = Dictionary(uniqueKeysWithValues: repository.regions.enumerated().map { ($1.name, $0) })
        return results.sorted {
            ($0.target, $0.backupID, order[$0.region] ?? 0) < ($1.target, $1.backupID, order[$1.region] ?? 0)
        }
    }
}
