import Yams

extension PolicyValidator {
    /// `metrics: {textfile: DIR, pushgateway: URL}`; at least one.
    func metricsPolicy(_ node: Node, _ path: String) -> MetricsPolicy? {
        guard let fields = mapping(node, path, known: ["textfile", "pushgateway"]) else { return nil }
        var metrics = MetricsPolicy()
        if let node = fields["textfile"] { metrics.textfileDirectory = filePath(node, fields.path("textfile")) }
        if let node = fields["pushgateway"], let url = httpURL(node, fields.path("pushgateway"), of: "a Pushgateway") {
            metrics.pushgateway = url.hasSuffix("/") ? String(url.dropLast()) : url
        }
        if fields["textfile"] == nil && fields["pushgateway"] == nil {
            report(node, path, "needs 'textfile', 'pushgateway' or both")
            return nil
        }
        return metrics
    }
}
