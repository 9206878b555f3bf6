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
            #"<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg trend-svg" viewBox="0 0 \#(Self.width.svg) \#(Self.height.svg)" role="img" aria-label="drills per month, passed filled">"#,
            "<title>Drills per month (passed filled)</title>",
            #"<line class="tick" x1="\#(Self.left.svg)" y1="\#(baseline.svg)" x2="\#((Self.left + plotWidth).svg)" y2="\#(baseline.svg)"/>"#,
            #"<text class="axis" x="\#((Self.left - 6).svg)" y="\#((Self.top + 4).svg)" text-anchor="end">\#(most)</text>"#,
            #"<text class="axis" x="\#((Self.left - 6).svg)" y="\#((baseline + 4).svg)" text-anchor="end">0</text>"#,
        ]
        for (index, month) in months.enumerated() {
            let x = Self.left + slot * Double(index) + slot * 0.2
            let width = slot * 0.6
            let label = "\(month.month): \(month.drills) drills, \(month.passed) passed, worst RTO \(ReportFormatting.duration(month.worstRTOSeconds)), worst RPO \(ReportFormatting.duration(month.worstRPOSeconds))"
            parts.append(#"<g class="trend-month"><title>\#(HTMLText.escape(label))</title>"#)
            parts.append(#"<rect class="trend-drills" x="\#(x.svg)" y="\#((baseline - height(month.drills)).svg)" width="\#(width.svg)" height="\#(height(month.drills).svg)"/>"#)
            parts.append(#"<rect class="trend-passed" x="\#(x.svg)" y="\#((baseline - height(month.passed)).svg)" width="\#(width.svg)" height="\#(height(month.passed).svg)"/>"#)
            let count = month.drills == 0 ? "none" : "\(month.passed)/\(month.drills)"
            parts.append(#"<text class="axis\#(month.drills == 0 ? " trend-none" : "")" x="\#((x + width / 2).svg)" y="\#((baseline - height(month.drills) - 3).svg)" text-anchor="middle">\#(count)</text>"#)
            parts.append(#"<text class="axis" x="\#((x + width / 2).svg)" y="\#((baseline + 16).svg)" text-anchor="middle">\#(month.month)</text>"#)
            parts.append("</g>")
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }
}
