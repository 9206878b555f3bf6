import Foundation

/// Durations in a policy are written as one or more `<number><unit>` parts, largest unit first,
/// each unit at most once: `90s`, `5m`, `1h30m`, `7d`, `1d12h`. Units: `d` (24 h), `h`, `m`, `s`.
/// They are represented as Swift `Duration` values (whole seconds); these helpers convert.
public enum PolicyDuration {
    private static let units: [(Character, Int64, String)] = [
        ("d", 86_400, "days"), ("h", 3_600, "hours"), ("m", 60, "minutes"), ("s", 1, "seconds"),
    ]

    /// Parses a policy duration; throws `PolicyValueError` with the reason. Must be > 0.
    public static func parse(_ text: String) throws(PolicyValueError) -> Duration {
        let usage = "expected a number followed by a unit (s, m, h, d), e.g. 90s, 5m, 1h30m, 7d"
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw PolicyValueError("invalid duration \"\(text)\": \(usage)") }
        var total: Int64 = 0
        var lastUnitIndex = -1
        var digits = ""
        for character in trimmed {
            if character.isASCII, character.isNumber {
                digits.append(character)
                continue
            }
            guard let unitIndex = units.firstIndex(where: { $0.0 == character }) else {
                throw PolicyValueError("invalid duration \"\(text)\": unknown unit '\(character)'; \(usage)")
            }
            guard !digits.isEmpty else {
                throw PolicyValueError("invalid duration \"\(text)\": '\(character)' needs a number before it; \(usage)")
            }
            guard unitIndex > lastUnitIndex else {
                throw PolicyValueError("invalid duration \"\(text)\": write units largest first, each once (e.g. 1h30m)")
            }
            guard let value = Int64(digits) else {
                throw PolicyValueError("invalid duration \"\(text)\": \(digits) is too large")
            }
            let (part, overflow1) = value.multipliedReportingOverflow(by: units[unitIndex].1)
            let (sum, overflow2) = total.addingReportingOverflow(part)
            guard !overflow1, !overflow2, sum <= 100 * 365 * 86_400 else {
                throw PolicyValueError("invalid duration \"\(text)\": longer than 100 years")
            }
            total = sum
            lastUnitIndex = unitIndex
            digits = ""
        }
        guard digits.isEmpty else {
            throw PolicyValueError("invalid duration \"\(text)\": \(digits) has no unit; \(usage)")
        }
        guard total > 0 else {
            throw PolicyValueError("invalid duration \"\(text)\": must be greater than 0")
        }
        return .seconds(total)
    }

    /// Formats whole seconds the way a policy writes them: `1h30m`, `7d`, `45s`, `0s`.
    public static func format(_ duration: Duration) -> String {
        var remaining = seconds(duration)
        if remaining == 0 { return "0s" }
        var text = remaining < 0 ? "-" : ""
        remaining = remaining == .min ? .max : abs(remaining)
        for (unit, size, _) in units where remaining >= size {
            text += "\(remaining / size)\(unit)"
            remaining %= size
        }
        return text
    }

    /// Whole seconds of a duration (fractions truncated).
    public static func seconds(_ duration: Duration) -> Int64 {
        duration.components.seconds
    }
}
