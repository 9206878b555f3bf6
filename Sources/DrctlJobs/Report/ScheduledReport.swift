import Foundation
import Logging
import DrctlPolicy

/// The agent's monthly report: the previous month's report in every form, written into the
/// policy's `agent.report_dir` as `drctl-report-YYYY-MM.{md,html,json}` (each atomically).
public struct ScheduledReport: BlockingJob {
    public let directory: String
    public let now: Date

    public init(directory: String, now: Date = Date()) {
        self.directory = directory
        self.now = now
    }

    /// Where the report of `month` in `format` goes (the agent's catch-up looks there too).
    public static func path(in directory: String, month: ReportMonth, format: ReportFormat) -> String {
        "\(directory)/drctl-report-\(month).\(format.rawValue)"
    }

    /// Returns the paths written.
    public func runBlocking(in context: JobContext) throws -> [String] {
        let month = ReportMonth.previous(to: now)
        let report = try ReportJob(month: month, target: nil, now: now).runBlocking(in: context)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return try ReportFormat.allCases.map { format in
            let path = Self.path(in: directory, month: month, format: format)
            try ReportOutput.write(try format.render(report), to: path)
            return path
        }
    }
}
