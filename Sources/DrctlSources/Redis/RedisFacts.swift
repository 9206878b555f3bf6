/// What the manifest records about a Redis server, from `INFO` on a short connection of its own.
public struct RedisFacts: Sendable, Equatable {
    /// `master_repl_offset`: the server's replication offset when INFO ran (nil if not reported).
    /// Taken on a separate connection, so it brackets the snapshot rather than pinning it.
    public var replicationOffset: Int64?
    /// Keys per database number (`INFO keyspace`); databases without keys are absent.
    public var keyspace: [Int: Int]
    /// `redis_version`.
    public var version: String
    /// `role`: master or slave.
    public var role: String?

    public init(replicationOffset: Int64?, keyspace: [Int: Int], version: String, role: String? = nil) {
        self.replicationOffset = replicationOffset
        self.keyspace = keyspace
        self.version = version
        self.role = role
    }

    /// Total keys over all databases.
    public var totalKeys: Int { keyspace.values.reduce(0, +) }

    /// Connects, logs in, and asks INFO replication, keyspace and server.
    public static func gather(_ endpoint: RedisEndpoint, connectTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(30)) throws -> RedisFacts {
        let connection = try RedisConnection(endpoint, connectTimeout: connectTimeout, idleTimeout: idleTimeout)
        defer { connection.close() }
        try connection.authenticate()
        func info(_ section: String) throws -> [String: String] {
            switch try connection.command(["INFO", section]) {
            case .bulk(let bytes?):
                return parseInfo(String(decoding: bytes, as: UTF8.self))
            case .error(let message):
                throw RedisError.commandRefused(address: endpoint.address, command: "INFO \(section)", serverMessage: message)
            default:
                throw RedisError.protocolViolation(address: endpoint.address, detail: "INFO \(section) did not answer with a bulk string")
            }
        }
        let replication = try info("replication")
        let keyspace = try info("keyspace")
        let server = try info("server")
        guard let version = server["redis_version"] else {
            throw RedisError.protocolViolation(address: endpoint.address, detail: "INFO server has no redis_version")
        }
        return RedisFacts(
            replicationOffset: replication["master_repl_offset"].flatMap { Int64($0) },
            keyspace: parseKeyspace(keyspace),
            version: version,
            role: replication["role"])
    }

    /// `name:value` lines; `# Section` headers and blank lines are skipped.
    static func parseInfo(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: { $0 == "\r\n" || $0 == "\n" || $0 == "\r" }) {
            guard !line.hasPrefix("#"), let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return fields
    }

    /// `db0` → `keys=1,expires=0,avg_ttl=0` into `[0: 1]`.
    static func parseKeyspace(_ fields: [String: String]) -> [Int: Int] {
        var result: [Int: Int] = [:]
        for (name, value) in fields where name.hasPrefix("db") {
            guard let db = Int(name.dropFirst(2)) else { continue }
            for part in value.split(separator: ",") where part.hasPrefix("keys=") {
                if let keys = Int(part.dropFirst(5)) { result[db] = keys }
            }
        }
        return result
    }
}
