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
                return Region(name: region.name, store: LocalDirectoryStore(root: path), timeout: region.timeout)
            case .s3(let bucket, let prefix):
                var store = try Self.s3Store(region, bucket: bucket, prefix: prefix)
                store.uploadMemory = memory.uploadMemoryPerRegion
                store.additionalChecksums = region.s3?.checksums ?? true
                return Region(name: region.name, store: store, timeout: region.timeout)
            }
        }, cache: ObjectCache.defaultDirectory().map { directory in
            ObjectCache(directory: directory) { Logger(label: "drctl").warning("\($0)") }
        })
    }

    private static func s3Store(_ region: RegionPolicy, bucket: String, prefix: String) throws -> S3ObjectStore {
        let settings = region.s3 ?? S3Settings()
        let signingRegion = settings.region ?? "us-east-1"
        var http = HTTPSettings()
        http.caFile = settings.caFile
        http.insecureSkipTLSVerify = settings.insecureSkipTLSVerify
        if let timeout = region.timeout { http.stallTimeout = Int(timeout.components.seconds) }
        do {
            return try S3ObjectStore(
                endpoint: settings.endpoint ?? "https://s3.\(signingRegion).amazonaws.com", region: signingRegion,
                bucket: bucket, prefix: prefix, pathStyle: settings.pathStyle,
                credentials: try S3CredentialChain.resolve(settings, region: region.name), settings: http)
        } catch let error as S3ConfigurationError {
            throw JobError.invalidDestination(url: "region '\(region.name)'", reason: "\(error)")
        }
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
