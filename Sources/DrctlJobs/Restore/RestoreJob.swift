import Glibc
import Logging
import DrctlPipeline
import DrctlPolicy
import DrctlStorage

/// Restores one backup of a target to a file (or standard output), reading from the first
/// region that holds it and falling back to the next on any storage or integrity failure.
public struct RestoreJob: Sendable {
    public let policy: Policy
    public let target: TargetPolicy
    public let backupID: String?
    /// A path, or "-" for standard output.
    public let destination: String
    public let force: Bool
    public let preferredRegion: String?
    public let keys: KeyRing
    public let logger: Logger
    public let progress: ProgressObserver?
    public let interruption: Interruption

    public init(policy: Policy, target: TargetPolicy, backupID: String?, destination: String, force: Bool,
                preferredRegion: String?, keys: KeyRing, logger: Logger, progress: ProgressObserver? = nil,
                interruption: Interruption = Interruption()) {
        self.policy = policy
        self.target = target
        self.backupID = backupID
        self.destination = destination
        self.force = force
        self.preferredRegion = preferredRegion
        self.keys = keys
        self.logger = logger
        self.progress = progress
        self.interruption = interruption
    }

    public struct Outcome: Sendable {
        public let manifest: BackupManifest
        public let region: String
        public let destination: String
        /// Regions tried before `region` and why they failed.
        public let skipped: [String]
    }

    public func run() async throws -> Outcome {
        let repository = try Repository(policy: policy.repository)
        let regions = try repository.readOrder(preferring: preferredRegion)
        let located = try BackupLocator(repository: repository, logger: logger)
            .locate(target: target.name, id: backupID, regions: regions)
        let manifest = located.manifest
        guard manifest.objects.count == 1, let object = manifest.objects.first else {
            throw JobError.unsupportedKind(target: target.name, kind: "\(manifest.kind) with \(manifest.objects.count) objects")
        }
        if destination != "-" && !force, access(destination) {
            throw JobError.destinationExists(destination)
        }
        let dataKey = try keys.unwrap(manifest.encryption.dataKey, backupID: manifest.backupID)
        var logger = self.logger
        logger[metadataKey: "target"] = "\(target.name)"
        logger[metadataKey: "backup"] = "\(manifest.backupID)"

        var skipped: [String] = []
        var failures: [Error] = []
        for region in located.regions {
            let standardOutput = destination == "-" ? StandardOutputSink() : nil
            let sink: ByteSink = try standardOutput ?? FileSink(path: destination, replace: force)
            do {
                try await ObjectRestore(manifest: manifest, object: object, dataKey: dataKey, region: region)
                    .run(into: sink, progress: progress, label: "restore \(target.name)", interruption: interruption)
                logger.info("restore finished", metadata: ["region": "\(region.name)", "to": "\(destination)"])
                return Outcome(manifest: manifest, region: region.name, destination: destination, skipped: skipped)
            } catch let error as RestoreDestinationError {
                throw error
            } catch let error as JobError {
                if case .interrupted = error { throw error }
                if case .destinationExists = error { throw error }
                failures.append(RegionFailure(region: region.name, error: error))
            } catch {
                failures.append(RegionFailure(region: region.name, error: error))
            }
            logger.warning("restore from region failed; trying the next", metadata: [
                "region": "\(region.name)", "error": "\(failures.last!)",
            ])
            skipped.append("\(failures.last!)")
            // Standard output cannot be rewound: once bytes went out, another region's copy
            // would follow a partial stream.
            if let standardOutput, standardOutput.bytesWritten > 0 { break }
        }
        throw RegionsExhausted(operation: "restore of backup \(manifest.backupID)", failures: failures)
    }

    private func access(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }
}

/// One region's failure within a multi-region operation.
public struct RegionFailure: Error, CustomStringConvertible {
    public let region: String
    public let error: Error

    public var description: String { "region '\(region)': \(error)" }
}

/// Every region was tried and each failed.
public struct RegionsExhausted: Error, CustomStringConvertible {
    public let operation: String
    public let failures: [Error]

    public var description: String {
        "\(operation) failed in every region: " + failures.map { "\($0)" }.joined(separator: "; ")
    }
}
