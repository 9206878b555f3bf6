import Logging
import DrctlPolicy
import DrctlStorage

extension Repository {
    /// The policy's regions as stores, in policy order.
    public init(policy: RepositoryPolicy) throws {
        let memory = StreamMemory(policy)
        self.init(regions: try policy.regions.map { region in
            switch region.location {
            case .directory(let path):
                return Region(name: region.name, store: LocalDirectoryStore(root: path), timeout: region.stallTimeout,
                              readDeadline: region.readDeadline ?? Region.defaultReadDeadline)
            case .s3(let bucket, let prefix):
                var store = try Self.s3Store(region, bucket: bucket, prefix: prefix)
                store.uploadMemory = memory.uploadMemoryPerRegion
                store.additionalChecksums = region.s3?.checksums ?? true
                return Region(name: region.name, store: store, timeout: region.stallTimeout,
                              readDeadline: region.readDeadline ?? Region.defaultReadDeadline)
            }
        }, cache: ObjectCache.directory(commandLine: policy.cacheDirectoryFromCommandLine, policy: policy.cacheDirectory).map { directory in
            ObjectCache(directory: directory) { Logger(label: "drctl").warning("\($0)") }
        }, trust: WriterTrust(policy))
    }

    private static func s3Store(_ region: RegionPolicy, bucket: String, prefix: String) throws -> S3ObjectStore {
        let settings = region.s3 ?? S3Settings()
        let signingRegion = settings.region ?? "us-east-1"
        var http = HTTPSettings()
        http.caFile = settings.caFile
        http.insecureSkipTLSVerify = settings.insecureSkipTLSVerify
        http.stallTimeout = max(1, Int(region.stallTimeout.components.seconds))
        do {
            return try S3ObjectStore(
                endpoint: settings.endpoint ?? "https://s3.\(signingRegion).amazonaws.com", region: signingRegion,
                bucket: bucket, prefix: prefix, pathStyle: settings.pathStyle,
                credentials: try S3CredentialChain.resolve(settings, region: region.name), settings: http)
        } catch let error as S3ConfigurationError {
            throw JobError.invalidDestination(url: "region '\(region.name)'", reason: "\(error)")
        }
    }

    /// The policy's regions, believing also the writers of `keys` (a `--key` given for an old
    /// backup brings the writer key derived from it: backups made before a key rotation stay
    /// readable by whoever holds their key).
    public init(policy: RepositoryPolicy, keys: KeyRing) throws {
        let repository = try Repository(policy: policy)
        let fromPolicy = (try? repository.trust.writers.get()) ?? []
        self = repository.trusting(WriterTrust(writers: .success(fromPolicy + keys.writers.filter { !fromPolicy.contains($0) }),
                                               pinnedRepositoryID: policy.id))
    }

    /// The policy's regions for a read-only command (`check`, `list`, `report`, `verify`'s
    /// listing): each region's requests are bounded by its `read_deadline`, and a region that
    /// passes it is reported unreadable and not asked again (`Region.bounded`).
    public init(readingPolicy policy: RepositoryPolicy) throws {
        let repository = try Repository(policy: policy)
        self = repository.with(regions: repository.regions.map { $0.bounded() })
    }

    /// The regions to read from: the one named by `--region`, else all in policy order.
    func readOrder(preferring name: String?) throws -> [Region] {
        guard let name else { return regions }
        guard let region = region(named: name) else {
            throw JobError.unknownRegion(name, known: regions.map(\.name))
        }
        return [region]
    }
}

extension RegionPolicy {
    /// The backup's stall timeout: the policy's `timeout`, else `defaultTimeout`.
    var stallTimeout: Duration { timeout ?? RegionPolicy.defaultTimeout }
}
