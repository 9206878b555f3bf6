import Foundation
import Logging
import DrctlPolicy
import DrctlStorage

/// `drctl report`: the drill report of one month for every target of the policy (or one),
/// read from the repository alone (any host, no local state).
public struct ReportJob: BlockingJob {
    public static let trendMonths = 12

    public let month: ReportMonth
    public let target: String?
    /// When the report says it was made.
    public let now: Date

    public init(month: ReportMonth, target: String?, now: Date = Date()) {
        self.month = month
        self.target = target
        self.now = now
    }

    public func runBlocking(in context: JobContext) throws -> DrillReport {
        let (policy, logger) = (context.policy, context.logger)
        let targets = try policy.targets(selecting: target)
        let repository = try Repository(readingPolicy: policy.repository)
        let reader = TargetHistoryReader(repository: repository,
                                         from: month.adding(months: -(Self.trendMonths - 1)).idPrefix,
                                         to: month.adding(months: 1).idPrefix)
        let builder = DrillReportBuilder(month: month, trendMonths: Self.trendMonths)
        var unreadable: [UnreadableRegion] = []
        let reports = try targets.map { target in
            let history = try reader.read(target: target.name)
            for refused in history.refused {
                logger.warning("left out of the report", metadata: ["target": "\(target.name)", "error": "\(refused)"])
            }
            for holding in history.holdings where holding.backupIDs == nil && !unreadable.contains(where: { $0.region == holding.region }) {
                logger.warning("region unreadable: the report may be incomplete",
                               metadata: ["region": "\(holding.region)", "error": "\(holding.error ?? "")"])
                unreadable.append(UnreadableRegion(region: holding.region, error: holding.error ?? "unknown error"))
            }
            return builder.target(target, history: history)
        }
        return builder.report(targets: reports, unreadable: unreadable, generatedAt: now)
    }
}

/// The forms `drctl report` writes.
public enum ReportFormat: String, Sendable, CaseIterable {
    case markdown = "md", html, json

    public func render(_ report: DrillReport) throws -> [UInt8] {
        switch self {
        case .markdown: Array(MarkdownReport(report: report).text.utf8)
        case .html: Array(HTMLReport(report: report).text.utf8)
        case .json: Array(try ManifestCoding.encoder.encode(report)) + [0x0a]
        }
    }
}

/// `--output FILE`: written beside FILE under a hidden name, fsynced, then renamed over it,
/// so a reader (a web server, a mail job) never sees half a report. Created like any ordinary
/// file, 0666 less the umask (0644 under the usual 022): a report holds no secret and is made to
/// be shared.
public enum ReportOutput {
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try FileSink.place(bytes, at: path, mode: 0o666)
    }
}
