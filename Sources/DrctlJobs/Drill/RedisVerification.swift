import DrctlSources
import DrctlStorage

/// What a restored Redis backup must show: the keys per database the manifest recorded.
/// The manifest's counts come from `INFO keyspace` just before the snapshot, so writes in
/// between and keys whose TTL ran out since make small differences: a count passes within
/// `tolerance` of the recorded one.
struct RedisVerification: Sendable {
    static let tolerance = 0.01

    let manifest: BackupManifest
    let endpoint: RedisEndpoint

    func run() -> [DrillCheckResult] {
        let recorded = manifest.source.keyspace ?? [:]
        let facts: RedisFacts
        do {
            facts = try RedisFacts.gather(endpoint)
        } catch {
            return [DrillCheckResult(name: "keys", expected: "\(recorded.values.reduce(0, +))", actual: nil, passed: false,
                                     error: "\(error)")]
        }
        let databases = Set(recorded.keys.compactMap(Int.init)).union(facts.keyspace.keys).sorted()
        if databases.isEmpty {
            return [DrillCheckResult(name: "keys", expected: "0", actual: "0", passed: true)]
        }
        return databases.map { db in
            let expected = recorded["\(db)"] ?? 0
            let actual = facts.keyspace[db] ?? 0
            let passed = Double(abs(actual - expected)) <= Double(expected) * Self.tolerance
            return DrillCheckResult(name: "keys db\(db)", expected: "\(expected)", actual: "\(actual)", passed: passed)
        }
    }
}
