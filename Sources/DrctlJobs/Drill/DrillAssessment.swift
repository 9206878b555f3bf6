import Foundation
import DrctlStorage

/// Turns what a drill saw into its result: `failed` when the backup could not be restored, a
/// check failed or there was nothing to check; else `objectives_missed` when RTO or RPO is over its objective; else `passed`.
struct DrillAssessment {
    let error: Error?
    let checks: [DrillCheckResult]
    let rtoSeconds: Double?
    let rpoSeconds: Double?
    let objectives: DrillObjectives

    var outcome: (result: DrillResult, reasons: [String]) {
        var failures: [String] = []
        if let error { failures.append("\(error)") }
        // A restore that nothing was compared against proves only that bytes came back.
        if error == nil && checks.isEmpty {
            failures.append("nothing was checked: the backup's manifest records no row or key counts to compare "
                + "and the policy's drill has no checks")
        }
        for check in checks where !check.passed {
            if let error = check.error {
                failures.append("check '\(check.name)' could not run: \(error)")
            } else {
                failures.append("check '\(check.name)': expected \(check.expected), got \(check.actual ?? "nothing")")
            }
        }
        var missed: [String] = []
        if let rto = rtoSeconds, let objective = objectives.rtoSeconds, rto > objective {
            missed.append("RTO \(Self.seconds(rto)) is over the objective of \(Self.seconds(objective))")
        }
        if let rpo = rpoSeconds, let objective = objectives.rpoSeconds, rpo > objective {
            missed.append("RPO \(Self.seconds(rpo)) is over the objective of \(Self.seconds(objective))")
        }
        if !failures.isEmpty { return (.failed, failures + missed) }
        if !missed.isEmpty { return (.objectivesMissed, missed) }
        return (.passed, [])
    }

    static func seconds(_ value: Double) -> String {
        String(format: value < 100 ? "%.2f s" : "%.0f s", value)
    }
}
