import DrctlStorage

/// How one target did in the month, and the few words that say so.
struct TargetAssessment {
    let standing: TargetStanding
    /// "missed its RTO objective (worst 41.2 s against 30 s)", "had no drills", …
    let phrase: String

    init(drills: [ReportDrill], drillEnabled: Bool) {
        guard !drills.isEmpty else {
            standing = .noDrills
            phrase = "had no drills" + (drillEnabled ? "" : " (drills are disabled in the policy)")
            return
        }
        var parts: [String] = []
        let failed = drills.filter { $0.result == .failed }
        if !failed.isEmpty {
            let reason = failed.first?.reasons.first.map { ": \($0)" } ?? ""
            parts.append("\(failed.count) of \(ReportFormatting.plural(drills.count, "drill")) failed\(reason)")
        }
        let missed = Self.missed(drills)
        if !missed.isEmpty {
            parts.append(missed)
        }
        if failed.isEmpty && missed.isEmpty {
            let passed = ReportFormatting.plural(drills.count, "drill")
            if drills.allSatisfy({ $0.rtoObjectiveSeconds == nil && $0.rpoObjectiveSeconds == nil }) {
                standing = .noObjectives
                phrase = "has no objectives set (\(passed) passed; RTO and RPO not judged)"
            } else {
                standing = .met
                phrase = "met its objectives (\(passed) passed)"
            }
        } else {
            standing = failed.isEmpty ? .objectivesMissed : .drillsFailed
            phrase = parts.joined(separator: "; ")
        }
    }

    /// "missed its RTO objective (worst 41.2 s against 30 s)", both objectives joined, or ""
    /// when none was missed. A drill recorded as `objectives_missed` without numbers to show
    /// which still counts.
    private static func missed(_ drills: [ReportDrill]) -> String {
        func worst(_ value: KeyPath<ReportDrill, Double?>, _ objective: KeyPath<ReportDrill, Double?>,
                   _ met: KeyPath<ReportDrill, Bool?>) -> String? {
            guard let drill = drills.filter({ $0[keyPath: met] == false }).max(by: { $0[keyPath: value]! < $1[keyPath: value]! }) else {
                return nil
            }
            return "worst \(ReportFormatting.duration(drill[keyPath: value]!)) against \(ReportFormatting.duration(drill[keyPath: objective]!))"
        }
        let rto = worst(\.rtoSeconds, \.rtoObjectiveSeconds, \.rtoMet)
        let rpo = worst(\.rpoSeconds, \.rpoObjectiveSeconds, \.rpoMet)
        switch (rto, rpo) {
        case let (rto?, rpo?): return "missed its RTO and RPO objectives (RTO \(rto); RPO \(rpo))"
        case let (rto?, nil): return "missed its RTO objective (\(rto))"
        case let (nil, rpo?): return "missed its RPO objective (\(rpo))"
        case (nil, nil):
            let count = drills.filter { $0.result == .objectivesMissed }.count
            return count == 0 ? "" : "missed its objectives in \(ReportFormatting.plural(count, "drill"))"
        }
    }
}

/// The report's one-line verdict: the targets that did not meet their objectives and why, then
/// those that have none set (their drills passed, but nothing says whether in time), or that
/// every target met its objectives.
enum ReportVerdict {
    static func line(month: ReportMonth, targets: [TargetReport]) -> String {
        let total = targets.count
        // Worst first; policy order among equals.
        let problems = targets.enumerated().filter { $0.element.standing < .noObjectives }
            .sorted { ($0.element.standing, $0.offset) < ($1.element.standing, $1.offset) }.map(\.element)
        let unjudged = targets.filter { $0.standing == .noObjectives }.map(\.name)
        let met = total - problems.count - unjudged.count
        if targets.allSatisfy({ $0.drills.isEmpty }) {
            return "No drills in \(month): " + (total == 1
                ? "target \(targets[0].name) was not drilled, so its recoverability is unproven"
                : "none of the \(total) targets was drilled, so their recoverability is unproven")
        }
        let names = unjudged.joined(separator: ", ")
        let notJudged = (unjudged.count == 1 ? "its" : "their") + " drills passed, but RTO and RPO were not judged"
        let noObjectives = "no objectives set for \(names): \(notJudged)"
        if !problems.isEmpty {
            let verb = problems.count == 1 ? "did not meet its objectives" : "did not meet their objectives"
            let details = problems.map { "\($0.name) \($0.verdict)" }.joined(separator: "; ")
            return "\(problems.count) of \(ReportFormatting.plural(total, "target")) \(verb) in \(month): \(details)"
                + (unjudged.isEmpty ? "" : "; " + noObjectives)
        }
        if unjudged.isEmpty {
            return total == 1
                ? "Target \(targets[0].name) met its objectives in \(month)"
                : "All \(total) targets met their objectives in \(month)"
        }
        if met == 0 {
            return "No objectives set in \(month) for \(names): \(notJudged)"
        }
        let verb = met == 1 ? "met its objectives" : "met their objectives"
        return "\(met) of \(ReportFormatting.plural(total, "target")) \(verb) in \(month); " + noObjectives
    }
}
