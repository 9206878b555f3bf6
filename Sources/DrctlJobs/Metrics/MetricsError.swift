/// Metrics that could not be delivered. Logged; never fails the run that made them.
public enum MetricsError: Error, CustomStringConvertible {
    case textfile(path: String, reason: String)
    case push(url: String, status: Int, body: String)

    public var description: String {
        switch self {
        case .textfile(let path, let reason): return "cannot write the metrics textfile \(path): \(reason)"
        case .push(let url, let status, let body): return "the Pushgateway at \(url) answered HTTP \(status): \(body)"
        }
    }
}
