import Foundation
import DrctlPolicy
import DrctlStorage

/// Turns each target's history into its part of the report, and the parts into the report.
/// Pure: everything it needs is in its arguments, so it is tested without storage.
struct DrillReportBuilder {
    let month: ReportMonth
    let trendMonths: Int

    func target(_ policy: TargetPolicy, history: TargetHistory) -> TargetReport {
        let drills = history.drills.filter { month.contains($0.startedAt) }.map(Self.drill)
        let trend = month.trailing(trendMonths).map { summary(of: $0, history) }
        let backups = history.backups.filter { month.contains($0.startedAt) }
        let failures = history.failures.filter { month.contains($0.startedAt) }
        let tally = BackupTally(
            taken: backups.count,
            complete: backups.filter { $0.status == .complete }.count,
            degraded: backups.filter { $0.status == .degraded }.count,
            failed: failures.count,
            failures: failures.map { ReportFailure(runID: $0.runID, startedAt: $0.startedAt, error: $0.error) },
            degradedBackups: backups.filter { $0.status == .degraded }.map(\.backupID))
        let seconds = { (duration: Duration) in Double(PolicyDuration.seconds(duration)) }
        let objectives = ReportObjectives(rtoSeconds: policy.objectives?.rto.map(seconds),
                                          rpoSeconds: policy.objectives?.rpo.map(seconds))
        let drillEnabled = policy.drill?.enabled ?? true
        let assessment = TargetAssessment(drills: drills, drillEnabled: drillEnabled)
        return TargetReport(
            name: policy.name, kind: policy.kind.rawValue, objectives: objectives, drillEnabled: drillEnabled,
            standing: assessment.standing, verdict: assessment.phrase, summary: trend.last!, drills: drills,
            backups: tally, storage: storage(history), trend: trend)
    }

    func report(targets: [TargetReport], unreadable: [UnreadableRegion], generatedAt: Date) -> DrillReport {
        DrillReport(month: month.description, periodStart: month.start, periodEnd: month.end, generatedAt: generatedAt,
                    verdict: ReportVerdict.line(month: month, targets: targets),
                    ok: targets.allSatisfy { $0.standing == .met },
                    targets: targets, unreadableRegions: unreadable)
    }

    static func drill(_ record: DrillRecord) -> ReportDrill {
        let rtoObjective = record.objectives.rtoSeconds
        let rpoObjective = record.objectives.rpoSeconds
        return ReportDrill(
            drillID: record.drillID, startedAt: record.startedAt, backupID: record.backupID, region: record.region,
            result: record.result, reasons: record.reasons,
            rtoSeconds: record.rtoSeconds, rtoObjectiveSeconds: rtoObjective,
            rtoMet: within(record.rtoSeconds, rtoObjective),
            rpoSeconds: record.rpoSeconds, rpoObjectiveSeconds: rpoObjective,
            rpoMet: within(record.rpoSeconds, rpoObjective),
            restoredBytes: record.restoredBytes, throughputBytesPerSecond: record.throughputBytesPerSecond)
    }

    private static func within(_ value: Double?, _ objective: Double?) -> Bool? {
        guard let value, let objective else { return nil }
        return value <= objective
    }

    func summary(of month: ReportMonth, _ history: TargetHistory) -> MonthSummary {
        let drills = history.drills.filter { month.contains($0.startedAt) }
        let rto = drills.compactMap(\.rtoSeconds)
        let rpo = drills.compactMap(\.rpoSeconds)
        return MonthSummary(
            month: month.description, drills: drills.count,
            passed: drills.filter { $0.result == .passed }.count,
            objectivesMissed: drills.filter { $0.result == .objectivesMissed }.count,
            failed: drills.filter { $0.result == .failed }.count,
            worstRTOSeconds: rto.max(), medianRTOSeconds: Self.median(rto),
            worstRPOSeconds: rpo.max(), medianRPOSeconds: Self.median(rpo),
            backups: history.backups.filter { month.contains($0.startedAt) }.count,
            failedBackups: history.failures.filter { month.contains($0.startedAt) }.count)
    }

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    private func storage(_ history: TargetHistory) -> [RegionStorage] {
        let sizes = Dictionary(history.backups.map { ($0.backupID, $0.storedSize) }, uniquingKeysWith: { first, _ in first })
        return history.holdings.map { holding in
            guard let ids = holding.backupIDs else {
                return RegionStorage(region: holding.region, backups: nil, storedBytes: nil, error: holding.error)
            }
            return RegionStorage(region: holding.region, backups: ids.count,
                                 storedBytes: ids.reduce(0) { $0 + (sizes[$1] ?? 0) }, error: nil)
        }
    }
}
