/// Which backup a drill restores when none is named: the newest, or one picked at random among
/// those whose consistent point is within `drill.window` (so that, over time, drills prove
/// older backups too, not just last night's).
public enum DrillPick: String, Sendable, CaseIterable {
    case latest, random
}
