import DrctlPolicy
import DrctlStorage

extension Repository {
    /// The policy's regions as stores, in policy order.
    public init(policy: RepositoryPolicy) throws {
        self.init(regions: try policy.regions.map { region in
            switch region.location {
            case .directory(let path):
                return Region(name: region.name, store: LocalDirectoryStore(root: path))
            case .s3(let bucket, let prefix):
                throw JobError.unsupportedRegion(region: region.name, url: "s3://\(bucket)/\(prefix)")
            }
        })
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
