import Foundation

extension PolicyValidator {
    /// The duration keys of `retention` (the counts are read in `retentionPolicy`).
    static let retentionDurationKeys = ["min_age", "leftover_grace"]

    /// `retention.min_age` and `retention.leftover_grace`; nil when either is invalid (reported).
    func retentionDurations(_ fields: Fields) -> (minAge: Duration?, leftoverGrace: Duration?)? {
        var ok = true
        func read(_ key: String) -> Duration? {
            guard let node = fields[key] else { return nil }
            let value = duration(node, fields.path(key))
            if value == nil { ok = false }
            return value
        }
        let minAge = read("min_age")
        let leftoverGrace = read("leftover_grace")
        return ok ? (minAge, leftoverGrace) : nil
    }
}
