/// Where a Redis server listens and how to log in to it.
public struct RedisEndpoint: Sendable {
    public var host: String
    public var port: Int
    /// An ACL user (Redis 6+); nil logs in as the default user.
    public var username: String?
    /// The password, already resolved from the policy's secret reference. Never logged:
    /// `description` leaves it out.
    public var password: String?

    public init(host: String, port: Int = 6379, username: String? = nil, password: String? = nil) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
    }

    /// `host:port`, with brackets around an IPv6 address.
    public var address: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

extension RedisEndpoint: CustomStringConvertible {
    public var description: String {
        let user = username.map { "\($0)@" } ?? ""
        return "redis://\(user)\(address)"
    }
}

/// Why talking to a Redis server failed. Every message names the server (`host:port`) and
/// says what to check; none contains the password.
public enum RedisError: Error, CustomStringConvertible, Equatable {
    /// The host name did not resolve.
    case cannotResolve(address: String, reason: String)
    /// Nothing listens on the port (ECONNREFUSED).
    case connectionRefused(address: String)
    /// No route, or no answer within the connect timeout.
    case unreachable(address: String, reason: String)
    /// The server asked for a password and none was configured (NOAUTH).
    case passwordRequired(address: String)
    /// The server rejected the password or the user (WRONGPASS, invalid password).
    case authenticationFailed(address: String, user: String?, serverMessage: String)
    /// The server refused a command we need (NOPERM, -ERR to SYNC, a replica without its master…).
    case commandRefused(address: String, command: String, serverMessage: String)
    /// The connection ended before the RDB was complete.
    case incompleteTransfer(address: String, received: Int64, expected: Int64?, reason: String?)
    /// The connection ended while drctl waited for a reply.
    case connectionClosed(address: String, waitingFor: String)
    /// The server said something that is not the replication protocol.
    case protocolViolation(address: String, detail: String)
    /// The server sent nothing for too long.
    case timedOut(address: String, seconds: Int, waitingFor: String)
    /// A socket call failed.
    case socketFailed(address: String, operation: String, reason: String)
    /// `cancel()` stopped the transfer.
    case cancelled(address: String)

    public var description: String {
        switch self {
        case .cannotResolve(let address, let reason):
            return "cannot resolve the Redis host of \(address): \(reason); check the host name and DNS"
        case .connectionRefused(let address):
            return "Redis at \(address) refused the connection: nothing listens there; check that redis-server runs and the host and port are right"
        case .unreachable(let address, let reason):
            return "Redis at \(address) is unreachable: \(reason); check the host, the port and any firewall between"
        case .passwordRequired(let address):
            return "Redis at \(address) requires a password (NOAUTH) and none is configured; set the target's password (and username for an ACL user)"
        case .authenticationFailed(let address, let user, let serverMessage):
            let who = user.map { "user '\($0)'" } ?? "the default user"
            return "Redis at \(address) rejected the password for \(who): \(serverMessage); check the configured username and password"
        case .commandRefused(let address, let command, let serverMessage):
            var hint = ""
            if serverMessage.hasPrefix("NOPERM") {
                hint = "; the user needs permission for SYNC and REPLCONF (e.g. ACL SETUSER <user> +sync +replconf +info)"
            } else if serverMessage.hasPrefix("NOMASTERLINK") || serverMessage.contains("master") {
                hint = "; this server is a replica that cannot serve a snapshot now: back up its master or wait until the replica is in sync"
            }
            return "Redis at \(address) refused \(command): \(serverMessage)\(hint)"
        case .incompleteTransfer(let address, let received, let expected, let reason):
            let cause = reason.map { " (\($0))" } ?? ""
            if let expected {
                return "Redis at \(address) closed the connection after \(received) of \(expected) bytes of the RDB\(cause): the snapshot is incomplete"
            }
            return "Redis at \(address) closed the connection after \(received) bytes of a diskless RDB, before its end mark\(cause): the snapshot is incomplete"
        case .connectionClosed(let address, let waitingFor):
            return "Redis at \(address) closed the connection while drctl waited for \(waitingFor); see the server's log (maxclients, protected-mode, TLS-only port?)"
        case .protocolViolation(let address, let detail):
            return "Redis at \(address) broke the replication protocol: \(detail); is this really a Redis server?"
        case .timedOut(let address, let seconds, let waitingFor):
            return "Redis at \(address) sent nothing for \(seconds) s while drctl waited for \(waitingFor)"
        case .socketFailed(let address, let operation, let reason):
            return "talking to Redis at \(address) failed: \(operation): \(reason)"
        case .cancelled(let address):
            return "the snapshot from Redis at \(address) was cancelled"
        }
    }
}
