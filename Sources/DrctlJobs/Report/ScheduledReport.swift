import Foundation
import Logging
import DrctlPolicy

/// The agent's monthly report: the previous month's report in every form, written into the
/// policy's `agent.report_dir` as `drctl-report-YYYY-MM.{md,html,json}` (each atomically).
public struct ScheduledReport: Sendable {
    public let policy: Policy
    public let directory: String
    public let logger: Logger

    public init(policy: Policy, directory: String, logger: Logger) {
        self.policy = policy
        self.directory = directory
        self.logger = logger
    }

    /// Where the report of `month` in `format` goes (the agent's catch-up looks there too).
    public static func path(in directory: String, month: ReportMonth, format: ReportFormat) -> String {
        "\(directory)/drctl-report-\(month).\(format.rawValue)"
    }

    /// Returns the paths written.
    public func write(now: Date = Date()) throws -> [String] {
        let month = ReportMonth.previous(to: now)
        let report = try ReportJob(policy: policy, month: month, target: nil, logger: logger).run(now: now)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return try ReportFormat.allCases.map { format in
            let path = Self.path(in: directory, month: month, format: format)
            try ReportOutput.write(try format.render(report), to: path)
            return path
        }
    }
}
