import Foundation
import DrctlPipeline
import DrctlPolicy
import DrctlSources
import DrctlStorage

/// `kind: redis`: an RDB snapshot taken over the replication protocol (one object,
/// `dump.rdb`), with the key counts per database and the snapshot's replication offset.
final class RedisPlan: BackupPlan {
    let kind = "redis"
    let objectNames = ["dump.rdb"]
    private let endpoint: RedisEndpoint
    private var facts: RedisFacts?
    private var snapshot: RedisRDBSource?

    init(target: TargetPolicy) throws {
        guard let connection = target.redis else {
            throw JobError.unsupportedKind(target: target.name, kind: "redis without a connection")
        }
        endpoint = RedisEndpoint(host: connection.host, port: connection.port, username: connection.username,
                                 password: try connection.password?.resolve())
    }

    func source(for object: String) throws -> ByteSource {
        // Key counts just before the snapshot: drills compare a restore against them.
        facts = try RedisFacts.gather(endpoint)
        let source = try RedisRDBSource(endpoint: endpoint)
        snapshot = source
        return source
    }

    func finished(startedAt: Date) -> (ConsistentPoint, SourceFacts) {
        let info = snapshot?.snapshotInfo
        let point = ConsistentPoint(time: startedAt, precision: "snapshot", replicationID: info?.replicationID,
                                    replicationOffset: info?.replicationOffset ?? facts?.replicationOffset)
        let keyspace = facts.map { Dictionary(uniqueKeysWithValues: $0.keyspace.map { ("\($0.key)", $0.value) }) }
        return (point, SourceFacts(serverVersion: info?.redisVersion ?? facts?.version, keyspace: keyspace))
    }
}
