import Synchronization

/// A named storage region of the policy: one store, in policy order.
public struct Region: Sendable {
    public let name: String
    public let store: ObjectStore
    /// A region whose writer makes no progress this long is dropped from the running backup;
    /// nil: no limit of its own (the transport's stall timeout and retries still apply).
    public let timeout: Duration?
    /// How long one of the region's small requests (a listing, a lock, a record) may take before
    /// the region counts as not answering (`RequestDeadline`).
    public let readDeadline: Duration

    /// 10 s: far above a healthy endpoint's answer, and short enough that `drctl check` with
    /// one hung region answers inside a monitor's timeout.
    public static let defaultReadDeadline: Duration = .seconds(10)

    public init(name: String, store: ObjectStore, timeout: Duration? = nil, readDeadline: Duration = Region.defaultReadDeadline) {
        self.name = name
        self.store = store
        self.timeout = timeout
        self.readDeadline = readDeadline
    }

    /// A deadline of `readDeadline` for this region's requests.
    public func deadline(latching: Bool) -> RequestDeadline {
        RequestDeadline(seconds: Double(readDeadline.components.seconds) + Double(readDeadline.components.attoseconds) / 1e18,
                        region: name, latching: latching)
    }

    /// The region with every request bounded by `readDeadline`, and once one passes it, not
    /// asked again in this run: for read-only commands (the region is reported unreadable) and
    /// for what a failed backup leaves (its failure record, the removal of its objects).
    public func bounded() -> Region {
        Region(name: name, store: store.bounded(by: deadline(latching: true)), timeout: timeout, readDeadline: readDeadline)
    }
}

/// Which regions are still taking part in one backup, and why the others were dropped.
/// A region dropped while writing one object stays out for the rest of the backup.
public final class RegionRoster: Sendable {
    public let regions: [Region]
    public let minRegions: Int
    /// Region name → why it was dropped; each object's sink thread and the job's task drop regions.
    private let failures = Mutex<[String: any Error]>([:])

    public init(regions: [Region], minRegions: Int) {
        self.regions = regions
        self.minRegions = minRegions
    }

    public var alive: [Region] {
        let failures = self.failures.withLock { $0 }
        return regions.filter { failures[$0.name] == nil }
    }

    public var dropped: [(region: String, error: Error)] {
        let failures = self.failures.withLock { $0 }
        return regions.compactMap { region in failures[region.name].map { (region.name, $0) } }
    }

    public func drop(_ region: Region, because error: Error) {
        failures.withLock { if $0[region.name] == nil { $0[region.name] = error } }
    }

    /// Throws when fewer than `minRegions` regions remain.
    public func checkQuorum() throws {
        let count = alive.count
        if count < minRegions {
            throw RegionQuorumError(alive: count, total: regions.count, minRegions: minRegions,
                                    failures: dropped.map { "region '\($0.region)': \($0.error)" })
        }
    }
}

public struct RegionQuorumError: Error, CustomStringConvertible {
    public let alive: Int
    public let total: Int
    public let minRegions: Int
    public let failures: [String]

    public var description: String {
        "only \(alive) of \(total) region(s) could store the backup, and min_regions is \(minRegions): "
            + failures.joined(separator: "; ")
    }
}
