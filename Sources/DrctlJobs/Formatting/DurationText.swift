/// Ages and periods for people: `45s`, `12m`, `26h`, `3d` (whole units, rounded down; hours up
/// to three days, so "26h ago" reads against "rpo 24h").
public enum DurationText {
    public static func short(_ seconds: Double) -> String {
        let value = Int(seconds.rounded(.down))
        if value < 0 { return "-" + short(-seconds) }
        if value < 120 { return "\(value)s" }
        if value < 2 * 3600 { return "\(value / 60)m" }
        if value < 72 * 3600 { return "\(value / 3600)h" }
        return "\(value / 86_400)d"
    }
}
