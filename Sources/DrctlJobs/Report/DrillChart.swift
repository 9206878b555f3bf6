import Foundation
import DrctlStorage

/// One inline SVG chart: a measurement (RTO or RPO) of each drill of the month, by day, against
/// the objective line. Static SVG, no script: it renders the same on screen, printed and in a
/// PDF. Shapes as well as colours tell the results apart (prints in black and white).
struct DrillChart {
    struct Point {
        let date: Date
        let value: Double?
        let result: DrillResult
        let label: String
    }

    /// "RTO" or "RPO".
    let measure: String
    let month: ReportMonth
    let points: [Point]
    let objective: Double?

    static let width = 480.0
    static let height = 250.0
    private static let left = 58.0, right = 14.0, top = 24.0, bottom = 34.0
    private var plotWidth: Double { Self.width - Self.left - Self.right }
    private var plotHeight: Double { Self.height - Self.top - Self.bottom }

    var svg: String {
        let values = points.compactMap(\.value) + (objective.map { [$0] } ?? [])
        let step = Self.tickStep(for: (values.max() ?? 1) * 1.12)
        let maximum = max(step, (((values.max() ?? 1) * 1.12) / step).rounded(.up) * step)
        func y(_ value: Double) -> Double { Self.top + plotHeight * (1 - min(value, maximum) / maximum) }
        func x(_ date: Date) -> Double {
            Self.left + plotWidth * min(max(date.timeIntervalSince(month.start) / month.end.timeIntervalSince(month.start), 0), 1)
        }

        var parts: [String] = [
            #"<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" viewBox="0 0 \#(Self.width.svg) \#(Self.height.svg)" role="img" aria-label="\#(measure) per drill in \#(month)">"#,
            "<title>\(measure) per drill in \(month)</title>",
            #"<rect class="plot" x="\#(Self.left.svg)" y="\#(Self.top.svg)" width="\#(plotWidth.svg)" height="\#(plotHeight.svg)"/>"#,
        ]
        if let objective {
            parts.append(#"<rect class="over-objective" x="\#(Self.left.svg)" y="\#(Self.top.svg)" width="\#(plotWidth.svg)" height="\#((y(objective) - Self.top).svg)"/>"#)
        }
        // Horizontal grid with duration labels.
        var tick = 0.0
        while tick <= maximum + step / 1000 {
            parts.append(#"<line class="grid" x1="\#(Self.left.svg)" y1="\#(y(tick).svg)" x2="\#((Self.left + plotWidth).svg)" y2="\#(y(tick).svg)"/>"#)
            parts.append(#"<text class="axis" x="\#((Self.left - 6).svg)" y="\#((y(tick) + 4).svg)" text-anchor="end">\#(Self.axisLabel(tick))</text>"#)
            tick += step
        }
        // Days of the month along the bottom.
        for day in [1, 5, 10, 15, 20, 25, 30] where day <= month.days {
            let position = x(month.start.addingTimeInterval(Double(day - 1) * 86_400))
            parts.append(#"<line class="tick" x1="\#(position.svg)" y1="\#((Self.top + plotHeight).svg)" x2="\#(position.svg)" y2="\#((Self.top + plotHeight + 4).svg)"/>"#)
            parts.append(#"<text class="axis" x="\#(position.svg)" y="\#((Self.top + plotHeight + 16).svg)" text-anchor="middle">\#(day)</text>"#)
        }
        parts.append(#"<text class="axis" x="\#((Self.left + plotWidth).svg)" y="\#((Self.height - 4).svg)" text-anchor="end">day of \#(month) (UTC)</text>"#)
        if let objective {
            parts.append(#"<line class="objective" x1="\#(Self.left.svg)" y1="\#(y(objective).svg)" x2="\#((Self.left + plotWidth).svg)" y2="\#(y(objective).svg)"/>"#)
        }
        // The key sits above the plot, where no point can hide it.
        let keyRight = Self.left + plotWidth
        if let objective {
            parts.append(#"<line class="objective-key" x1="\#((keyRight - 150).svg)" y1="\#((Self.top - 10).svg)" x2="\#((keyRight - 128).svg)" y2="\#((Self.top - 10).svg)"/>"#)
            parts.append(#"<text class="objective-label" x="\#((keyRight - 124).svg)" y="\#((Self.top - 6).svg)">objective \#(ReportFormatting.duration(objective))</text>"#)
        } else {
            parts.append(#"<text class="objective-label" x="\#(keyRight.svg)" y="\#((Self.top - 6).svg)" text-anchor="end">no \#(measure) objective set</text>"#)
        }
        for point in points {
            let title = "<title>\(HTMLText.escape(point.label))</title>"
            let px = x(point.date)
            guard let value = point.value else {
                // Never measured (the drill failed first): a cross on the axis.
                let py = Self.top + plotHeight - 6
                parts.append(#"<path class="drill-missing" d="M\#((px - 5).svg) \#((py - 5).svg)L\#((px + 5).svg) \#((py + 5).svg)M\#((px - 5).svg) \#((py + 5).svg)L\#((px + 5).svg) \#((py - 5).svg)">\#(title)</path>"#)
                continue
            }
            let over = objective.map { value > $0 } ?? false
            let kind = point.result == .failed ? "failed" : over ? "over" : "within"
            parts.append(#"<path class="drill-point drill-\#(kind)" d="\#(Self.marker(kind, px, y(value)))">\#(title)</path>"#)
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }

    /// Circle within the objective, diamond over it, triangle for a failed drill.
    private static func marker(_ kind: String, _ x: Double, _ y: Double) -> String {
        switch kind {
        case "within":
            return "M\((x - 4.5).svg) \(y.svg)a4.5 4.5 0 1 0 9 0a4.5 4.5 0 1 0 -9 0Z"
        case "over":
            return "M\(x.svg) \((y - 6).svg)L\((x + 6).svg) \(y.svg)L\(x.svg) \((y + 6).svg)L\((x - 6).svg) \(y.svg)Z"
        default:
            return "M\(x.svg) \((y - 6).svg)L\((x + 6).svg) \((y + 5).svg)L\((x - 6).svg) \((y + 5).svg)Z"
        }
    }

    /// A round step giving at most five grid lines up to `maximum` seconds.
    static func tickStep(for maximum: Double) -> Double {
        let steps: [Double] = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
                               10_800, 21_600, 43_200, 86_400, 172_800, 432_000, 864_000]
        return steps.first { maximum / $0 <= 5 } ?? (maximum / 5).rounded(.up)
    }

    static func axisLabel(_ seconds: Double) -> String {
        if seconds == 0 { return "0" }
        if seconds < 60 { return String(format: "%g s", seconds) }
        if seconds < 3600 { return String(format: "%g min", seconds / 60) }
        if seconds < 86_400 { return String(format: "%g h", seconds / 3600) }
        return String(format: "%g d", seconds / 86_400)
    }
}

extension Double {
    /// An SVG coordinate with at most one decimal: small files, exact enough for a chart.
    var svg: String { String(format: "%g", (self * 10).rounded() / 10) }
}
