/// The 12-month trend of one target as an inline SVG bar chart: per month a bar of drills,
/// its passed part filled, and the count above it. No script, like the drill charts.
struct TrendChart {
    let months: [MonthSummary]

    static let width = 960.0
    static let height = 150.0
    private static let left = 36.0, right = 8.0, top = 14.0, bottom = 30.0

    var svg: String {
        let plotWidth = Self.width - Self.left - Self.right
        let plotHeight = Self.height - Self.top - Self.bottom
        let most = max(months.map(\.drills).max() ?? 0, 1)
        let slot = plotWidth / Double(max(months.count, 1))
        func height(_ count: Int) -> Double { plotHeight * Double(count) / Double(most) }
        let baseline = Self.top + plotHeight
        var parts = [
            #"<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg trend-svg" viewBox="0 0 \#(Self.width.trend) \#(Self.height.trend)" role="img" aria-label="drills per month, passed filled">"#,
            "<title>Drills per month (passed filled)</title>",
            #"<line class="tick" x1="\#(Self.left.trend)" y1="\#(baseline.trend)" x2="\#((Self.left + plotWidth).trend)" y2="\#(baseline.trend)"/>"#,
            #"<text class="axis" x="\#((Self.left - 6).trend)" y="\#((Self.top + 4).trend)" text-anchor="end">\#(most)</text>"#,
            #"<text class="axis" x="\#((Self.left - 6).trend)" y="\#((baseline + 4).trend)" text-anchor="end">0</text>"#,
        ]
        for (index, month) in months.enumerated() {
            let x = Self.left + slot * Double(index) + slot * 0.2
            let width = slot * 0.6
            let label = "\(month.month): \(month.drills) drills, \(month.passed) passed, worst RTO \(ReportFormatting.duration(month.worstRTOSeconds)), worst RPO \(ReportFormatting.duration(month.worstRPOSeconds))"
            parts.append(#"<g class="trend-month"><title>\#(HTMLText.escape(label))</title>"#)
            parts.append(#"<rect class="trend-drills" x="\#(x.trend)" y="\#((baseline - height(month.drills)).trend)" width="\#(width.trend)" height="\#(height(month.drills).trend)"/>"#)
            parts.append(#"<rect class="trend-passed" x="\#(x.trend)" y="\#((baseline - height(month.passed)).trend)" width="\#(width.trend)" height="\#(height(month.passed).trend)"/>"#)
            let count = month.drills == 0 ? "none" : "\(month.passed)/\(month.drills)"
            parts.append(#"<text class="axis\#(month.drills == 0 ? " trend-none" : "")" x="\#((x + width / 2).trend)" y="\#((baseline - height(month.drills) - 3).trend)" text-anchor="middle">\#(count)</text>"#)
            parts.append(#"<text class="axis" x="\#((x + width / 2).trend)" y="\#((baseline + 16).trend)" text-anchor="middle">\#(month.month)</text>"#)
            parts.append("</g>")
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }
}

private extension Double {
    var trend: String { String(format: "%g", (self * 10).rounded() / 10) }
}
