import Foundation
import DrctlCrypto
import DrctlStorage

/// A sandbox with two local regions and two command targets whose history (drill records,
/// failure records, manifests) is written through DrctlStorage, exactly as `drctl drill` and
/// `drctl backup` store it; `drctl report` only reads the repository.
final class ReportSandbox {
    let sandbox: Sandbox
    var primary: String { sandbox.repository }
    var secondary: String { "\(sandbox.root)/repo-b" }

    /// `app-db`: RTO 1m, RPO 2h. `cache`: RTO 30s, RPO 1d.
    init(extraRegions: [(String, String)] = [], extraPolicy: String = "") throws {
        sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [], regions: [("local", primary), ("backup", secondary)] + extraRegions, rawTargets: """
              - name: app-db
                kind: command
                command: ["true"]
                objectives: {rto: 1m, rpo: 2h}
              - name: cache
                kind: command
                command: ["true"]
                objectives: {rto: 30s, rpo: 1d}
            \(extraPolicy)
            """)
    }

    enum Placement { case both, primaryOnly, secondaryOnly }

    func repository(_ placement: Placement) -> Repository {
        let regions = [Region(name: "local", store: LocalDirectoryStore(root: primary)),
                       Region(name: "backup", store: LocalDirectoryStore(root: secondary))]
        switch placement {
        case .both: return Repository(regions: regions)
        case .primaryOnly: return Repository(regions: [regions[0]])
        case .secondaryOnly: return Repository(regions: [regions[1]])
        }
    }

    static func date(_ text: String) -> Date { Timestamp.parse(text)! }

    @discardableResult
    func drill(_ target: String, at start: String, _ result: DrillResult, rto: Double?, rpo: Double?,
               objectives: (rto: Double, rpo: Double)?, reasons: [String] = [], in placement: Placement = .both) throws -> DrillRecord {
        let started = Self.date(start)
        let record = DrillRecord(
            drillID: BackupID(startedAt: started).rawValue, target: target, kind: "command", tool: ToolInfo(version: "0.1.0"),
            backupID: BackupID(startedAt: started.addingTimeInterval(-(rpo ?? 60))).rawValue, region: "local",
            startedAt: started, finishedAt: started.addingTimeInterval((rto ?? 5) + 1), result: result, reasons: reasons,
            rtoSeconds: rto, rpoSeconds: rpo, recoveryPoint: started.addingTimeInterval(-(rpo ?? 60)),
            restoredBytes: 1 << 20, throughputBytesPerSecond: 50_000_000,
            phases: [DrillPhase(name: "fetch", seconds: 1)],
            // A drill that did not fail checked something (readers refuse one that did not).
            checks: result == .failed ? [] : [DrillCheckResult(name: "size stdout", expected: "1048576", actual: "1048576", passed: true)],
            objectives: DrillObjectives(rpoSeconds: objectives?.rpo, rtoSeconds: objectives?.rto))
        let failures = repository(placement).write(record, signedBy: sandbox.signingKey)
        guard failures.isEmpty else { throw Command.ShellFailed(script: "write \(record.drillID)", result: .init(status: 1, stdout: "", stderr: "\(failures)")) }
        return record
    }

    func failure(_ target: String, at start: String, error: String) throws {
        let started = Self.date(start)
        let record = FailureRecord(runID: BackupID(startedAt: started).rawValue, target: target, kind: "command",
                                   tool: ToolInfo(version: "0.1.0"), startedAt: started, finishedAt: started.addingTimeInterval(3),
                                   error: error, regions: ["local", "backup"])
        repository(.both).write(record, signedBy: sandbox.signingKey)
    }

    /// A committed backup's manifest (its objects are not needed by the report).
    func backup(_ target: String, at start: String, storedSize: UInt64, status: BackupStatus = .complete,
                in placement: Placement = .both) throws {
        let started = Self.date(start)
        let id = BackupID(startedAt: started)
        let manifest = BackupManifest(
            backupID: id.rawValue, target: target, kind: "command", tool: ToolInfo(version: "0.1.0"),
            startedAt: started, finishedAt: started.addingTimeInterval(30),
            consistentPoint: ConsistentPoint(time: started, precision: "at-or-after"),
            compression: CompressionInfo(level: 3),
            encryption: EncryptionInfo(chunkSize: 1 << 20, dataKey: WrappedDataKey(
                scheme: .symmetric, keyID: "0123456789abcdef", ephemeralPublicKey: nil,
                nonce: "AAAAAAAAAAAAAAAA", ciphertext: "AAAA")),
            objects: [StoredObject(name: "stdout", key: RepositoryLayout.dataKey(target: target, backup: id, object: "stdout"),
                                   rawSize: storedSize * 3, storedSize: storedSize, sha256: String(repeating: "0", count: 64))],
            source: SourceFacts(program: "true"), regions: placement == .both ? ["local", "backup"] : ["local"], status: status)
        for region in repository(placement).regions {
            try region.store.put(RepositoryLayout.manifestKey(target: target, backup: id), bytes: try manifest.encoded())
        }
    }

    /// November 2026: app-db has four drills (two passed, one over its RTO objective, one
    /// failed), cache two passed ones; plus history before and after for the trend, backups
    /// (one degraded, in one region only), and a failed backup. Some records lie in one region only.
    func writeNovember() throws {
        let appDB = (rto: 60.0, rpo: 7200.0)
        let cache = (rto: 30.0, rpo: 86_400.0)
        try drill("app-db", at: "2025-10-20T04:30:00.000Z", .passed, rto: 30, rpo: 1000, objectives: appDB)   // outside the trend
        try drill("app-db", at: "2026-10-12T04:30:00.000Z", .passed, rto: 35, rpo: 2000, objectives: appDB)
        try drill("app-db", at: "2026-11-02T04:30:00.000Z", .passed, rto: 41.5, rpo: 1830.25, objectives: appDB)
        try drill("app-db", at: "2026-11-09T04:30:00.000Z", .passed, rto: 38, rpo: 2400, objectives: appDB, in: .secondaryOnly)
        try drill("app-db", at: "2026-11-16T04:30:00.000Z", .objectivesMissed, rto: 75.25, rpo: 1900, objectives: appDB,
                  reasons: ["RTO 75.25 s is over the objective of 60 s"])
        try drill("app-db", at: "2026-11-23T04:30:00.000Z", .failed, rto: nil, rpo: 3600, objectives: appDB,
                  reasons: ["chunk 3 of db-0-app.dump failed authentication"])
        try drill("app-db", at: "2026-12-01T04:30:00.000Z", .passed, rto: 20, rpo: 100, objectives: appDB)   // after the month
        try drill("cache", at: "2026-06-05T05:00:00.000Z", .passed, rto: 2, rpo: 30_000, objectives: cache)
        try drill("cache", at: "2026-11-05T05:00:00.000Z", .passed, rto: 2.5, rpo: 40_000, objectives: cache, in: .primaryOnly)
        try drill("cache", at: "2026-11-20T05:00:00.000Z", .passed, rto: 3.25, rpo: 52_000.5, objectives: cache)

        try backup("app-db", at: "2026-10-12T03:00:00.000Z", storedSize: 1_000_000)
        try backup("app-db", at: "2026-11-01T03:00:00.000Z", storedSize: 2_000_000)
        try backup("app-db", at: "2026-11-08T03:00:00.000Z", storedSize: 3_000_000, status: .degraded, in: .primaryOnly)
        try backup("app-db", at: "2026-11-15T03:00:00.000Z", storedSize: 4_000_000)
        try backup("app-db", at: "2026-11-22T03:00:00.000Z", storedSize: 5_000_000)
        try backup("app-db", at: "2026-12-01T03:00:00.000Z", storedSize: 6_000_000)   // after the month
        try backup("cache", at: "2026-11-04T06:00:00.000Z", storedSize: 10_000)
        try backup("cache", at: "2026-11-19T06:00:00.000Z", storedSize: 20_000)
        try failure("app-db", at: "2026-11-10T03:00:00.000Z", error: "program exited with status 1: connection | lost")
    }

    /// The region's `manifests/` becomes a symlink to itself: listing it fails (ELOOP), as an
    /// unreachable or broken region would.
    func makeManifestsUnlistable(in region: String) throws {
        let manifests = "\(region)/manifests"
        try FileManager.default.removeItem(atPath: manifests)
        try FileManager.default.createSymbolicLink(atPath: manifests, withDestinationPath: "manifests")
    }

    @discardableResult
    func report(_ arguments: [String]) throws -> Drctl.Result {
        try sandbox.drctl(["report"] + arguments)
    }
}
