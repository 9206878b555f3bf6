import Logging
import DrctlPolicy
import DrctlStorage

/// Reads every stored byte of the selected backups in every region that holds them: checks
/// sizes and SHA-256 against the manifest, authenticates and decrypts every chunk,
/// decompresses, and compares the raw size. Restores nothing.
public struct VerifyJob: Sendable {
    public let policy: Policy
    public let target: String?
    public let backupID: String?
    public let keys: KeyRing
    public let logger: Logger
    public let progress: ProgressObserver?
    public let interruption: Interruption

    public init(policy: Policy, target: String?, backupID: String?, keys: KeyRing, logger: Logger,
                progress: ProgressObserver? = nil, interruption: Interruption = Interruption()) {
        self.policy = policy
        self.target = target
        self.backupID = backupID
        self.keys = keys
        self.logger = logger
        self.progress = progress
        self.interruption = interruption
    }

    public struct Result: Sendable {
        public let target: String
        public let backupID: String
        public let region: String
        /// nil when every check passed.
        public let problem: String?
        public let error: (any Error)?
    }

    public func run() async throws -> [Result] {
        let repository = try Repository(policy: policy.repository)
        var selected = try ListJob(policy: policy, target: target, logger: logger).run().entries
        if let backupID {
            guard BackupID(backupID) != nil else { throw JobError.invalidBackupID(backupID) }
            selected = selected.filter { $0.manifest.backupID == backupID }
            if selected.isEmpty {
                throw JobError.backupNotFound(target: target ?? "any", backup: backupID)
            }
        }
        if selected.isEmpty, let target { throw JobError.noBackups(target: target) }

        var results: [Result] = []
        for entry in selected {
            let manifest = entry.manifest
            let dataKey = try keys.unwrap(manifest.encryption.dataKey, backupID: manifest.backupID)
            for regionName in entry.regions {
                guard let region = repository.region(named: regionName) else { continue }
                do {
                    // Each region's copy of the manifest is checked against the one listed.
                    let copy = try repository.manifest(target: manifest.target, backup: manifest.id!, in: region)
                    guard copy.objects == manifest.objects else {
                        throw VerifyMismatch()
                    }
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
        return results
    }
}

struct VerifyMismatch: Error, CustomStringConvertible {
    var description: String { "its manifest differs from the other regions' copies" }
}
