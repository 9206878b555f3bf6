import Foundation
import DrctlStorage

/// How the report writes numbers for people; the Markdown and HTML forms use these alone, so
/// both show the same figures (the JSON form carries the exact values).
enum ReportFormatting {
    /// `0.42 s`, `41.2 s`, `12m 05s`, `3h 07m`, `2d 04h`: precise where it matters, short where
    /// seconds no longer do.
    static func duration(_ seconds: Double) -> String {
        // Each bound is where the shorter form would round up to the next one (9.996 s is "10.0 s").
        if seconds < 9.995 { return String(format: "%.2f s", seconds) }
        if seconds < 59.95 { return String(format: "%.1f s", seconds) }
        let whole = Int(seconds.rounded())
        if whole < 3600 { return String(format: "%dm %02ds", whole / 60, whole % 60) }
        let minutes = Int((seconds / 60).rounded())
        if minutes < 24 * 60 { return String(format: "%dh %02dm", minutes / 60, minutes % 60) }
        let hours = Int((seconds / 3600).rounded())
        return String(format: "%dd %02dh", hours / 24, hours % 24)
    }

    static func duration(_ seconds: Double?, none: String = "–") -> String {
        seconds.map(duration) ?? none
    }

    /// `2026-11-03 04:30` (UTC): the day and minute of a drill.
    static func minute(_ date: Date) -> String {
        let text = Timestamp.format(date)   // 2026-11-03T04:30:12.345Z
        return String(text.prefix(10)) + " " + String(text.dropFirst(11).prefix(5))
    }

    static func result(_ result: DrillResult) -> String {
        switch result {
        case .passed: "passed"
        case .objectivesMissed: "objectives missed"
        case .failed: "failed"
        }
    }

    static func standing(_ standing: TargetStanding) -> String {
        switch standing {
        case .met: "met its objectives"
        case .objectivesMissed: "objectives missed"
        case .noObjectives: "no objectives set"
        case .drillsFailed: "drills failed"
        case .noDrills: "no drills"
        }
    }

    static func plural(_ count: Int, _ singular: String, _ plural: String? = nil) -> String {
        "\(count) " + (count == 1 ? singular : plural ?? singular + "s")
    }
}
