import DrctlStorage

/// The report as Markdown (GitHub-flavoured tables), for mail, tickets and terminals.
struct MarkdownReport {
    let report: DrillReport

    var text: String {
        var lines = [
            "# Drill report \(report.month)",
            "",
            "**\(report.ok ? "OK" : "ATTENTION"): \(Self.cell(report.verdict))**",
            "",
            "Period \(Timestamp.format(report.periodStart)) to \(Timestamp.format(report.periodEnd)) (UTC, end exclusive). "
                + "Generated \(Timestamp.format(report.generatedAt)) from the repository's records.",
        ]
        for region in report.unreadableRegions {
            lines += ["", "> **Warning:** region `\(region.region)` could not be read (\(Self.cell(region.error))): this report may be incomplete."]
        }
        lines += ["", "| target | kind | standing | drills | passed | worst RTO | worst RPO | backups | failed backups |",
                  "|---|---|---|---:|---:|---:|---:|---:|---:|"]
        for target in report.targets {
            let summary = target.summary
            lines.append(row([target.name, target.kind, ReportFormatting.standing(target.standing), "\(summary.drills)",
                              "\(summary.passed)", ReportFormatting.duration(summary.worstRTOSeconds),
                              ReportFormatting.duration(summary.worstRPOSeconds), "\(summary.backups)", "\(summary.failedBackups)"]))
        }
        for target in report.targets {
            lines += section(target)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func section(_ target: TargetReport) -> [String] {
        var lines = ["", "## \(target.name)", "",
                     "**\(ReportFormatting.standing(target.standing))**: \(target.name) \(Self.cell(target.verdict)).", "",
                     "Objectives: RTO \(ReportFormatting.duration(target.objectives.rtoSeconds, none: "not set")), "
                        + "RPO \(ReportFormatting.duration(target.objectives.rpoSeconds, none: "not set"))."
                        + (target.drillEnabled ? "" : " Drills are disabled in the policy.")]
        lines += ["", "### Drills", ""]
        if target.drills.isEmpty {
            lines.append("No drills in \(report.month): this target's recoverability is unproven.")
        } else {
            lines += ["| started (UTC) | drill | backup | result | RTO | RTO objective | RPO | RPO objective | reasons |",
                      "|---|---|---|---|---:|---:|---:|---:|---|"]
            for drill in target.drills {
                lines.append(row([ReportFormatting.minute(drill.startedAt), drill.drillID, drill.backupID ?? "–",
                                  ReportFormatting.result(drill.result),
                                  ReportFormatting.duration(drill.rtoSeconds), ReportFormatting.duration(drill.rtoObjectiveSeconds),
                                  ReportFormatting.duration(drill.rpoSeconds), ReportFormatting.duration(drill.rpoObjectiveSeconds),
                                  drill.reasons.isEmpty ? "–" : drill.reasons.joined(separator: "; ")]))
            }
        }
        let backups = target.backups
        lines += ["", "### Backups", "",
                  "Taken \(backups.taken) (complete \(backups.complete), degraded \(backups.degraded)), failed \(backups.failed)."]
        if !backups.degradedBackups.isEmpty {
            lines += ["", "Degraded (stored in fewer regions than the policy names): " + backups.degradedBackups.map { "`\($0)`" }.joined(separator: ", ") + "."]
        }
        if !backups.failures.isEmpty {
            lines += ["", "| failed backup started (UTC) | run | error |", "|---|---|---|"]
            for failure in backups.failures {
                lines.append(row([ReportFormatting.minute(failure.startedAt), failure.runID, failure.error]))
            }
        }
        lines += ["", "### Storage by region", "", "At the end of \(report.month): backups started before then that the region holds now.", "",
                  "| region | backups | stored |", "|---|---:|---:|"]
        for region in target.storage {
            if let error = region.error {
                lines.append(row([region.region, "unreadable", error]))
            } else {
                lines.append(row([region.region, "\(region.backups ?? 0)", ByteFormat.human(region.storedBytes ?? 0)]))
            }
        }
        lines += ["", "### 12-month trend", "",
                  "| month | drills | passed | worst RTO | median RTO | worst RPO | median RPO | backups | failed backups |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for month in target.trend {
            lines.append(row([month.month, "\(month.drills)", "\(month.passed)",
                              ReportFormatting.duration(month.worstRTOSeconds), ReportFormatting.duration(month.medianRTOSeconds),
                              ReportFormatting.duration(month.worstRPOSeconds), ReportFormatting.duration(month.medianRPOSeconds),
                              "\(month.backups)", "\(month.failedBackups)"]))
        }
        return lines
    }

    private func row(_ cells: [String]) -> String {
        "| " + cells.map(Self.cell).joined(separator: " | ") + " |"
    }

    /// Text safe inside a table cell or a bold run: one line, no bare pipes or asterisks.
    static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
            .replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "*", with: "\\*")
    }
}
