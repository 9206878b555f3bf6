import Glibc

/// Why the agent could not start or run.
public enum AgentError: Error, CustomStringConvertible {
    case badListenAddress(String, reason: String)
    case listenFailed(String, errno: Int32)
    case nothingScheduled

    public var description: String {
        switch self {
        case .badListenAddress(let address, let reason):
            return "agent listen address '\(address)': \(reason)"
        case .listenFailed(let address, let code):
            return "cannot listen on \(address): \(String(cString: strerror(code)))"
        case .nothingScheduled:
            return "no target has a schedule (schedule, drill.schedule) and agent has no prune or report schedule: the agent would never run anything"
        }
    }
}
