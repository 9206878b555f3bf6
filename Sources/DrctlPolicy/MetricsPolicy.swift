/// Where one-shot runs (`drctl backup`, `drctl drill`) leave their Prometheus metrics: a
/// node_exporter textfile directory and/or a Pushgateway. Top-level `metrics:` of the policy.
public struct MetricsPolicy: Sendable, Equatable {
    /// Absolute path of node_exporter's textfile collector directory: each run writes
    /// `drctl_<target>_<command>.prom` there (atomic rename).
    public var textfileDirectory: String?
    /// `http(s)://host:port[/path]` of a Pushgateway; each run PUTs its group
    /// `job/drctl_<command>/target/<target>`.
    public var pushgateway: String?

    public init(textfileDirectory: String? = nil, pushgateway: String? = nil) {
        self.textfileDirectory = textfileDirectory
        self.pushgateway = pushgateway
    }
}
