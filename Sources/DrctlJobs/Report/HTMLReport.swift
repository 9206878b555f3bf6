import DrctlStorage

/// The report as one self-contained HTML file: inline CSS and SVG, no script, no external
/// resource. Reads on screen (two charts side by side) and printed on A4 (charts stacked,
/// each target from a new page, nothing wider than the page).
struct HTMLReport {
    let report: DrillReport

    var text: String {
        var body: [String] = [
            "<header>",
            "<h1>Drill report \(e(report.month))</h1>",
            #"<p class="period">\#(e(Timestamp.format(report.periodStart))) to \#(e(Timestamp.format(report.periodEnd))) (UTC, end exclusive) · generated \#(e(Timestamp.format(report.generatedAt))) from the repository's records</p>"#,
            #"<p class="verdict \#(report.ok ? "ok" : "bad")"><strong>\#(report.ok ? "OK" : "Attention")</strong> \#(e(report.verdict))</p>"#,
        ]
        for region in report.unreadableRegions {
            body.append(#"<p class="warning">Region <code>\#(e(region.region))</code> could not be read (\#(e(region.error))): this report may be incomplete.</p>"#)
        }
        body += [overview(), "</header>"]
        body += report.targets.map(section)
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Drill report \(e(report.month))</title>
            <style>
            \(Self.style)
            </style>
            </head>
            <body>
            <main>
            \(body.joined(separator: "\n"))
            </main>
            </body>
            </html>

            """
    }

    private func overview() -> String {
        let rows = report.targets.map { target in
            let summary = target.summary
            return "<tr><td><a href=\"#target-\(e(target.name))\">\(e(target.name))</a></td><td>\(e(target.kind))</td>"
                + "<td>\(badge(target.standing))</td>"
                + num(summary.drills) + num(summary.passed)
                + num(ReportFormatting.duration(summary.worstRTOSeconds)) + num(ReportFormatting.duration(summary.worstRPOSeconds))
                + num(summary.backups) + num(summary.failedBackups) + "</tr>"
        }
        return table(class: "overview", header: ["target", "kind", "standing", "#drills", "#passed", "#worst RTO", "#worst RPO", "#backups", "#failed backups"],
                     rows: rows)
    }

    private func section(_ target: TargetReport) -> String {
        let summary = target.summary
        var parts: [String] = [
            #"<section class="target" id="target-\#(e(target.name))">"#,
            #"<h2>\#(e(target.name)) <span class="kind">\#(e(target.kind))</span> \#(badge(target.standing))</h2>"#,
            #"<p class="target-verdict">\#(e(target.name)) \#(e(target.verdict)).</p>"#,
            #"<dl class="facts">"#,
            "<div><dt>RTO objective</dt><dd>\(e(ReportFormatting.duration(target.objectives.rtoSeconds, none: "not set")))</dd></div>",
            "<div><dt>RPO objective</dt><dd>\(e(ReportFormatting.duration(target.objectives.rpoSeconds, none: "not set")))</dd></div>",
            "<div><dt>Drills</dt><dd>\(summary.drills) (\(summary.passed) passed, \(summary.objectivesMissed) missed objectives, \(summary.failed) failed)\(target.drillEnabled ? "" : ", disabled in the policy")</dd></div>",
            "<div><dt>Median RTO / RPO</dt><dd>\(e(ReportFormatting.duration(summary.medianRTOSeconds))) / \(e(ReportFormatting.duration(summary.medianRPOSeconds)))</dd></div>",
            "<div><dt>Backups</dt><dd>\(target.backups.taken) taken (\(target.backups.complete) complete, \(target.backups.degraded) degraded), \(target.backups.failed) failed</dd></div>",
            "</dl>",
        ]
        if target.drills.isEmpty {
            parts.append(#"<p class="empty">No drills in \#(e(report.month)): this target's recoverability is unproven.</p>"#)
        } else {
            parts += [#"<div class="charts">"#, chart(target, measure: "RTO"), chart(target, measure: "RPO"), "</div>"]
            parts.append(#"<p class="legend"><span class="key within">●</span> within the objective <span class="key over">◆</span> over the objective <span class="key failed">▲</span> drill failed <span class="key missing">×</span> not measured (failed before) <span class="key line">- -</span> objective</p>"#)
            parts.append("<h3>Drills</h3>")
            parts.append(table(class: "drills", header: ["started (UTC)", "backup", "result", "#RTO", "#objective", "#RPO", "#objective", "reasons"],
                               rows: target.drills.map(drillRow)))
        }
        parts.append("<h3>Backups and storage</h3>")
        if !target.backups.failures.isEmpty {
            parts.append(table(class: "failures", header: ["failed backup started (UTC)", "error"], rows: target.backups.failures.map {
                "<tr><td class=\"when\">\(e(ReportFormatting.minute($0.startedAt)))</td><td>\(e($0.error))</td></tr>"
            }))
        }
        if !target.backups.degradedBackups.isEmpty {
            parts.append("<p>Degraded (stored in fewer regions than the policy names): "
                + target.backups.degradedBackups.map(id).joined(separator: ", ") + "</p>")
        }
        parts.append(table(class: "storage", header: ["region", "#backups held", "#stored at the end of \(report.month)"], rows: target.storage.map { region in
            guard region.error == nil else {
                return "<tr><td>\(e(region.region))</td><td colspan=\"2\" class=\"bad-text\">unreadable: \(e(region.error ?? ""))</td></tr>"
            }
            return "<tr><td>\(e(region.region))</td>" + num(region.backups ?? 0) + num(ByteFormat.human(region.storedBytes ?? 0)) + "</tr>"
        }))
        parts.append("<h3>12-month trend</h3>")
        parts.append(#"<figure class="chart chart-trend"><figcaption>Drills per month: passed (filled) of all</figcaption>"# + "\n"
            + TrendChart(months: target.trend).svg + "\n</figure>")
        parts.append(table(class: "trend", header: ["month", "#drills", "#passed", "#worst RTO", "#median RTO", "#worst RPO", "#median RPO", "#backups", "#failed backups"],
                           rows: target.trend.map { month in
            "<tr><td>\(e(month.month))</td>" + num(month.drills) + num(month.passed)
                + num(ReportFormatting.duration(month.worstRTOSeconds)) + num(ReportFormatting.duration(month.medianRTOSeconds))
                + num(ReportFormatting.duration(month.worstRPOSeconds)) + num(ReportFormatting.duration(month.medianRPOSeconds))
                + num(month.backups) + num(month.failedBackups) + "</tr>"
        }))
        parts.append("</section>")
        return parts.joined(separator: "\n")
    }

    private func chart(_ target: TargetReport, measure: String) -> String {
        let rto = measure == "RTO"
        let points = target.drills.map { drill in
            let value = rto ? drill.rtoSeconds : drill.rpoSeconds
            return DrillChart.Point(
                date: drill.startedAt, value: value, result: drill.result,
                label: "\(ReportFormatting.minute(drill.startedAt)) · \(measure) \(ReportFormatting.duration(value, none: "not measured")) · \(ReportFormatting.result(drill.result))")
        }
        // The policy's objective; else the one the latest drill was measured against.
        let objective = (rto ? target.objectives.rtoSeconds : target.objectives.rpoSeconds)
            ?? target.drills.last.flatMap { rto ? $0.rtoObjectiveSeconds : $0.rpoObjectiveSeconds }
        let svg = DrillChart(measure: measure, month: ReportMonth(report.month)!, points: points, objective: objective).svg
        return #"<figure class="chart chart-\#(measure.lowercased())"><figcaption>\#(measure) per drill</figcaption>"# + "\n" + svg + "\n</figure>"
    }

    private func drillRow(_ drill: ReportDrill) -> String {
        func measured(_ value: Double?, _ met: Bool?) -> String {
            "<td class=\"num\(met == false ? " bad-text" : "")\">\(e(ReportFormatting.duration(value)))</td>"
        }
        return "<tr class=\"result-\(drill.result.rawValue)\" title=\"drill \(e(drill.drillID))\">"
            + "<td class=\"when\">\(e(ReportFormatting.minute(drill.startedAt)))</td>"
            + "<td>\(drill.backupID.map(id) ?? "–")</td>"
            + "<td>\(e(ReportFormatting.result(drill.result)))</td>"
            + measured(drill.rtoSeconds, drill.rtoMet) + num(ReportFormatting.duration(drill.rtoObjectiveSeconds))
            + measured(drill.rpoSeconds, drill.rpoMet) + num(ReportFormatting.duration(drill.rpoObjectiveSeconds))
            + "<td class=\"reasons\">\(drill.reasons.isEmpty ? "–" : drill.reasons.map(e).joined(separator: "<br>"))</td></tr>"
    }

    /// An id, breakable only before its random suffix: `20261122T051008.412Z` / `-3f9a1c`.
    private func id(_ text: String) -> String {
        "<code class=\"id\">" + text.split(separator: "-", omittingEmptySubsequences: false).enumerated()
            .map { "<span>\($0.offset == 0 ? "" : "-")\(e(String($0.element)))</span>" }.joined(separator: "<wbr>") + "</code>"
    }

    private func badge(_ standing: TargetStanding) -> String {
        #"<span class="badge standing-\#(standing.rawValue)">\#(e(ReportFormatting.standing(standing)))</span>"#
    }

    /// A header starting with `#` is a numeric (right-aligned) column.
    private func table(class name: String, header: [String], rows: [String]) -> String {
        let cells = header.map { $0.hasPrefix("#") ? "<th class=\"num\">\(e(String($0.dropFirst())))</th>" : "<th>\(e($0))</th>" }
        // On a narrow screen a wide table scrolls by itself instead of widening the page.
        return "<div class=\"table-scroll\"><table class=\"\(name)\">\n<thead><tr>\(cells.joined())</tr></thead>\n<tbody>\n\(rows.joined(separator: "\n"))\n</tbody>\n</table></div>"
    }

    private func num(_ value: Int) -> String { num("\(value)") }
    private func num(_ text: String) -> String { "<td class=\"num\">\(e(text))</td>" }
    private func e(_ text: String) -> String { HTMLText.escape(text) }

    static let style = """
        :root { --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; }
        * { box-sizing: border-box; }
        html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
        body { margin: 0; background: #f6f8fa; color: var(--ink); font: 14px/1.45 system-ui, "Segoe UI", "DejaVu Sans", "Liberation Sans", sans-serif; }
        main { max-width: 980px; margin: 0 auto; padding: 24px 28px 40px; background: #fff; }
        h1 { font-size: 26px; margin: 0 0 4px; }
        h2 { font-size: 20px; margin: 0 0 6px; display: flex; flex-wrap: wrap; align-items: center; gap: 8px; }
        h3 { font-size: 15px; margin: 18px 0 6px; }
        .period, .legend, .kind { color: var(--muted); font-size: 12px; }
        .kind { font-weight: normal; }
        .verdict { margin: 14px 0; padding: 12px 16px; border-left: 6px solid; border-radius: 6px; font-size: 15px; }
        .verdict.ok { background: #dafbe1; border-color: var(--ok); }
        .verdict.bad { background: #ffebe9; border-color: var(--bad); }
        .warning { padding: 8px 12px; background: #fff8c5; border-left: 6px solid var(--warn); border-radius: 6px; }
        .target { margin-top: 28px; padding-top: 18px; border-top: 2px solid var(--line); }
        .target-verdict { margin: 0 0 8px; }
        .badge { font-size: 12px; font-weight: 600; padding: 2px 8px; border-radius: 10px; color: #fff; white-space: nowrap; }
        .standing-met { background: var(--ok); }
        .standing-objectives_missed, .standing-no_objectives { background: var(--warn); }
        .standing-drills_failed, .standing-no_drills { background: var(--bad); }
        .facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 6px 16px; margin: 8px 0 12px; }
        .facts div { border-left: 3px solid var(--line); padding-left: 8px; }
        .facts dt { color: var(--muted); font-size: 12px; }
        .facts dd { margin: 0; font-weight: 600; }
        .empty { padding: 10px 14px; background: #ffebe9; border-left: 6px solid var(--bad); border-radius: 6px; font-weight: 600; }
        .charts { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
        figure { margin: 0; break-inside: avoid; }
        figcaption { font-weight: 600; font-size: 13px; margin-bottom: 2px; }
        .chart-svg { display: block; width: 100%; height: auto; }
        .chart-svg .plot { fill: #fff; stroke: var(--line); }
        .chart-svg .over-objective { fill: #ffebe9; }
        .chart-svg .grid { stroke: #eaeef2; }
        .chart-svg .tick { stroke: var(--muted); }
        .chart-svg .axis { font-size: 11px; fill: var(--muted); }
        .chart-svg .objective, .chart-svg .objective-key { stroke: var(--bad); stroke-width: 1.5; stroke-dasharray: 6 4; }
        .chart-svg .objective-label { font-size: 11px; fill: var(--bad); font-weight: 600; }
        .chart-svg .drill-within { fill: var(--ok); }
        .chart-svg .drill-over { fill: var(--warn); }
        .chart-svg .drill-failed { fill: var(--bad); }
        .chart-svg .drill-missing { stroke: var(--bad); stroke-width: 2; fill: none; }
        .chart-svg .trend-drills { fill: #ffd8d3; stroke: var(--bad); stroke-width: 0.8; }
        .chart-svg .trend-passed { fill: var(--ok); }
        .chart-svg .trend-none { fill: var(--bad); font-weight: 600; }
        .key { font-weight: 700; margin-left: 10px; }
        .key.within { color: var(--ok); } .key.over { color: var(--warn); } .key.failed, .key.missing, .key.line { color: var(--bad); }
        .table-scroll { overflow-x: auto; margin: 4px 0 12px; }
        table { width: 100%; border-collapse: collapse; font-size: 12.5px; }
        th, td { padding: 4px 6px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
        th { background: #f6f8fa; font-weight: 600; }
        .num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
        .when { white-space: nowrap; }
        .id { font-family: "DejaVu Sans Mono", ui-monospace, monospace; font-size: 11px; }
        .id span { white-space: nowrap; }
        .reasons { overflow-wrap: break-word; }
        .bad-text { color: var(--bad); font-weight: 600; }
        tr.result-failed td { background: #fff5f5; }
        tr.result-objectives_missed td { background: #fffbeb; }
        a { color: inherit; }
        @media (max-width: 720px) { .charts { grid-template-columns: 1fr; } main { padding: 16px; } }
        @page { size: A4; margin: 14mm 12mm; }
        @media print {
          body { background: #fff; font-size: 10pt; }
          main { max-width: none; padding: 0; }
          .target + .target { break-before: page; border-top: none; margin-top: 0; padding-top: 0; }
          .charts { grid-template-columns: 1fr 1fr; gap: 10px; }
          table { font-size: 9pt; }
          .table-scroll { overflow: visible; }
          thead { display: table-header-group; }
          tr, figure, .facts { break-inside: avoid; }
          h2, h3 { break-after: avoid; }
          a { text-decoration: none; }
        }
        """
}

enum HTMLText {
    /// Text safe in element content and in quoted attribute values (`&` first).
    static func escape(_ text: String) -> String {
        [("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\"", "&quot;"), ("'", "&#39;")].reduce(text) {
            $0.replacingOccurrences(of: $1.0, with: $1.1)
        }
    }
}
