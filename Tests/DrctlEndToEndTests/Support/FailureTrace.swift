import Foundation
import Testing

/// What a failed run must leave for monitoring (issue #21, item 5): its record in the
/// repository, `drctl check`, `drctl report` and the metrics textfile counting it, and, with
/// `--log-format json`, nothing on stderr but JSON objects, one of them the error.
enum FailureTrace {
    /// The objects on `stderr`, one per line; every line must be one.
    static func jsonLines(_ stderr: String, sourceLocation: SourceLocation = #_sourceLocation) -> [[String: Any]] {
        stderr.split(separator: "\n").compactMap { line in
            let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
            #expect(object != nil, "not a JSON object on stderr: \(line)", sourceLocation: sourceLocation)
            return object
        }
    }

    /// The stderr of a failed run in JSON mode: JSON lines only, at least one an error naming
    /// the target.
    static func expectJSONError(_ result: Drctl.Result, target: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let lines = jsonLines(result.stderr, sourceLocation: sourceLocation)
        #expect(lines.contains { $0["level"] as? String == "error" && "\($0)".contains(target) },
                "no error line naming '\(target)': \(result)", sourceLocation: sourceLocation)
    }

    /// The JSON documents under `records/<target>/<folder>/` of the sandbox's repository.
    static func records(_ sandbox: Sandbox, target: String, folder: String) throws -> [[String: Any]] {
        let directory = "\(sandbox.repository)/records/\(target)/\(folder)"
        return try sandbox.files(under: directory).map { name in
            try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name)")))
                            as? [String: Any])
        }
    }

    /// The one record a failed run left in `records/<target>/<folder>/`, after checking the run's
    /// exit status and its JSON stderr.
    static func onlyRecord(of result: Drctl.Result, _ sandbox: Sandbox, target: String, folder: String, status: Int32,
                           sourceLocation: SourceLocation) throws -> [String: Any] {
        #expect(result.status == status, "\(result)", sourceLocation: sourceLocation)
        expectJSONError(result, target: target, sourceLocation: sourceLocation)
        let found = try records(sandbox, target: target, folder: folder)
        #expect(found.count == 1, "\(folder) records: \(found)", sourceLocation: sourceLocation)
        return try #require(found.first, sourceLocation: sourceLocation)
    }

    /// The month (`YYYY-MM`, UTC) a record started in: the report's month for it.
    static func month(of record: [String: Any]) -> String {
        String((record["started_at"] as? String ?? "").prefix(7))
    }

    /// The samples of a metrics textfile `drctl_<target>_<command>.prom` in `textfiles`.
    static func metrics(_ textfiles: String, target: String, command: String) throws -> [String: Double] {
        parseExposition(try String(contentsOfFile: "\(textfiles)/drctl_\(target)_\(command).prom", encoding: .utf8))
    }

    /// A backup run that failed after one good backup of `target`: exactly one failure record,
    /// `check` WARNING naming it, the report and the metrics counting one failed backup, and
    /// (the run was in JSON mode) only JSON on stderr.
    static func expectFailedBackup(_ result: Drctl.Result, _ sandbox: Sandbox, target: String, textfiles: String,
                                   error expected: String, status: Int32 = 1,
                                   sourceLocation: SourceLocation = #_sourceLocation) throws {
        let record = try onlyRecord(of: result, sandbox, target: target, folder: "failures", status: status, sourceLocation: sourceLocation)
        #expect(record["format"] as? String == "drctl-failure-record" && record["target"] as? String == target,
                "\(record)", sourceLocation: sourceLocation)
        #expect((record["error"] as? String ?? "").contains(expected), "\(record)", sourceLocation: sourceLocation)

        let check = try sandbox.drctl(["check"])
        #expect(check.status == 1 && check.stdout.hasPrefix("DRCTL WARNING - \(target): ")
                && check.stdout.contains("\n  WARNING: the last backup run failed"), "\(check)", sourceLocation: sourceLocation)

        let report = try sandbox.drctl(["report", "--format", "json", "--month", month(of: record), "--target", target])
        #expect(report.status == 0, "\(report)", sourceLocation: sourceLocation)
        let backups = try ReportJSON(report.stdout).target(target).object("backups")
        #expect(backups.int("failed") == 1 && backups.int("taken") == 1, "\(report.stdout)", sourceLocation: sourceLocation)

        let metrics = try FailureTrace.metrics(textfiles, target: target, command: "backup")
        #expect(metrics["drctl_backup_total{target=\"\(target)\",result=\"failed\"}"] == 1, "\(metrics)", sourceLocation: sourceLocation)
        #expect(metrics["drctl_backup_total{target=\"\(target)\",result=\"complete\"}"] == 1, "\(metrics)", sourceLocation: sourceLocation)
    }

    /// A drill that failed: its record says `failed` with a reason naming `expected`, `check` is
    /// CRITICAL for it, the report lists it as failed, the metrics count it, and stderr (JSON
    /// mode) holds JSON only, the failure among it at level error.
    static func expectFailedDrill(_ result: Drctl.Result, _ sandbox: Sandbox, target: String, textfiles: String,
                                  reason expected: String, status: Int32 = 1,
                                  sourceLocation: SourceLocation = #_sourceLocation) throws {
        let record = try onlyRecord(of: result, sandbox, target: target, folder: "drills", status: status, sourceLocation: sourceLocation)
        let reasons = record["reasons"] as? [String] ?? []
        #expect(record["result"] as? String == "failed" && reasons.contains { $0.contains(expected) }, "\(record)",
                sourceLocation: sourceLocation)

        let check = try sandbox.drctl(["check"])
        #expect(check.status == 2 && check.stdout.hasPrefix("DRCTL CRITICAL") && check.stdout.contains("last drill failed"),
                "\(check)", sourceLocation: sourceLocation)

        let report = try sandbox.drctl(["report", "--format", "json", "--month", month(of: record), "--target", target])
        #expect(report.status == 0, "\(report)", sourceLocation: sourceLocation)
        let listed = try ReportJSON(report.stdout).target(target)
        #expect(listed.array("drills").map { $0.string("result") } == ["failed"], "\(report.stdout)", sourceLocation: sourceLocation)
        #expect(listed.string("standing") == "drills_failed", "\(report.stdout)", sourceLocation: sourceLocation)

        let metrics = try FailureTrace.metrics(textfiles, target: target, command: "drill")
        #expect(metrics["drctl_drill_total{target=\"\(target)\",result=\"failed\"}"] == 1, "\(metrics)", sourceLocation: sourceLocation)
    }
}
