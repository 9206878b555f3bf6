/// Whether a Redis server is up and done loading its data set: `PING` answers `PONG` only
/// once the RDB is loaded (before that, `-LOADING`). Used to wait for a scratch server.
public enum RedisProbe {
    public enum State: Sendable, Equatable {
        case ready
        /// Connected, but the server refused PING (`LOADING ...`, `NOAUTH ...`): its message.
        case notReady(String)
    }

    /// One short connection; throws when nothing accepts the connection.
    public static func ping(_ endpoint: RedisEndpoint, timeout: Duration = .seconds(2)) throws -> State {
        let connection = try RedisConnection(endpoint, connectTimeout: timeout, idleTimeout: timeout)
        defer { connection.close() }
        do {
            try connection.authenticate()
        } catch let error as RedisError {
            return .notReady("\(error)")
        }
        switch try connection.command(["PING"]) {
        case .simple("PONG"): return .ready
        case .error(let message): return .notReady(message)
        default: return .notReady("an unexpected reply to PING")
        }
    }
}
