import ArgumentParser
import Foundation
import DrctlJobs
import DrctlStorage

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "The monthly drill report (Markdown, self-contained HTML with charts, or JSON), made from the repository's records alone.")

    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup var log: LogOptions

    @Option(name: .long, help: ArgumentHelp("The month, in UTC. Default: the previous month.", valueName: "YYYY-MM"))
    var month: String?

    @Option(name: .long, help: "md (Markdown), html (one self-contained file) or json.")
    var format: ReportFormat = .markdown

    @Option(name: .long, help: ArgumentHelp("Write the report to FILE (atomically: a temporary file renamed into place) instead of standard output.", valueName: "FILE"))
    var output: String?

    @Option(name: .long, help: "Only this target.")
    var target: String?

    func validate() throws {
        if let month, ReportMonth(month) == nil {
            throw ValidationError("--month '\(month)' is not a month: write YYYY-MM, e.g. 2026-11")
        }
    }

    func run() async throws {
        try await guarded {
            let logger = log.bootstrap()
            let policy = try policyOptions.load(warningOn: logger)
            let chosen = month.flatMap(ReportMonth.init) ?? ReportMonth.previous(to: Date())
            let report = try await JobRunner(JobContext(policy: policy, logger: logger)).run(ReportJob(month: chosen, target: target))
            let bytes = try format.render(report)
            if let output {
                try ReportOutput.write(bytes, to: output)
                logger.info("report written", metadata: ["path": "\(output)", "verdict": "\(report.verdict)"])
            } else {
                FileHandle.standardOutput.write(Data(bytes))
            }
        }
    }
}

extension ReportFormat: ExpressibleByArgument {}
