import Foundation

/// Nagios's four states, in order of gravity; the raw value is the plugin exit code.
public enum HealthStatus: Int32, Sendable, Comparable, Encodable {
    case ok = 0, warning = 1, critical = 2, unknown = 3

    public var name: String {
        switch self {
        case .ok: return "OK"
        case .warning: return "WARNING"
        case .critical: return "CRITICAL"
        case .unknown: return "UNKNOWN"
        }
    }

    public static func < (lhs: HealthStatus, rhs: HealthStatus) -> Bool {
        // UNKNOWN sorts between WARNING and CRITICAL for "the worst of": a target we could not
        // judge is worse than a late one, not as bad as a missing backup.
        lhs.gravity < rhs.gravity
    }

    private var gravity: Int {
        switch self {
        case .ok: return 0
        case .warning: return 1
        case .unknown: return 2
        case .critical: return 3
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}

/// One thing `check` found wrong, with how bad it is.
public struct HealthFinding: Sendable, Encodable, Equatable {
    public var status: HealthStatus
    public var message: String

    public init(_ status: HealthStatus, _ message: String) {
        self.status = status
        self.message = message
    }
}
