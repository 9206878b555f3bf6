import Foundation
import Testing
import DrctlStorage

/// `drctl check`: Nagios-style health from the repository alone, judged at `--now`.
@Suite struct CheckTests {
    /// Moves a target's only backup back in time to `startedAt` (as if the agent had stopped
    /// then): its manifest is rewritten under the older id, its objects' keys with it (readers
    /// refuse keys outside the backup's own folder); the data stays where it is, which `check`
    /// never reads.
    static func moveBackupBack(_ sandbox: Sandbox, target: String, to startedAt: Date, regions: [String]) throws {
        let id = BackupID(startedAt: startedAt).rawValue
        for region in regions {
            let directory = "\(region)/manifests/\(target)"
            let name = try #require(try FileManager.default.contentsOfDirectory(atPath: directory).first)
            try ManifestRewriter.rewrite("\(directory)/\(name)", region: region, keyFile: sandbox.keyPath) { manifest in
                let took = manifest.finishedAt.timeIntervalSince(manifest.startedAt)
                manifest.backupID = id
                for index in manifest.objects.indices {
                    manifest.objects[index].key = "data/\(target)/\(id)/\(manifest.objects[index].name)"
                }
                manifest.startedAt = startedAt
                manifest.finishedAt = startedAt.addingTimeInterval(took)
                manifest.consistentPoint.time = startedAt
            }
        }
    }

    static func check(_ sandbox: Sandbox, _ arguments: [String] = [], now: Date? = nil) throws -> Drctl.Result {
        try sandbox.drctl(["check"] + arguments + (now.map { ["--now", Timestamp.format($0)] } ?? []))
    }

    @Test func turnsWarningThenCriticalAsTheBackupGetsLateAndOKAfterOneSucceeds() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [], rawTargets: """
              - name: db
                kind: command
                command: ["echo", "hello"]
                schedule: "0 * * * *"
                objectives: {rpo: 3h}

            """)
        // Nothing yet: critical.
        let empty = try Self.check(sandbox)
        #expect(empty.status == 2, "\(empty)")
        #expect(empty.stdout.hasPrefix("DRCTL CRITICAL - db: no backup in any region\n"), "\(empty)")

        #expect(try sandbox.drctl(["backup"]).status == 0)
        // The agent stopped two days ago, just after its 10:05 backup (hourly at :00, rpo 3h).
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let twoDaysAgo = Date().addingTimeInterval(-2 * 86_400)
        let last = calendar.date(bySettingHour: 10, minute: 5, second: 0, of: twoDaysAgo)!
        try Self.moveBackupBack(sandbox, target: "db", to: last, regions: [sandbox.repository])

        let fresh = try Self.check(sandbox, now: last.addingTimeInterval(10 * 60))
        #expect(fresh.status == 0, "\(fresh)")
        #expect(fresh.stdout.hasPrefix("DRCTL OK - db: last backup 10m ago | 'db_backup_age'=600s;;10800\n"), "\(fresh)")

        // 11:00 came and went, and the 30-minute grace with it.
        let late = try Self.check(sandbox, now: last.addingTimeInterval(90 * 60))
        #expect(late.status == 1, "\(late)")
        let due = Timestamp.format(last.addingTimeInterval(55 * 60))
        #expect(late.stdout.hasPrefix("DRCTL WARNING - db: last backup 90m ago, the next was due \(due) (schedule \"0 * * * *\", grace 30m)"),
                "\(late)")

        // Past the RPO objective.
        let critical = try Self.check(sandbox, now: last.addingTimeInterval(3 * 3600 + 600))
        #expect(critical.status == 2, "\(critical)")
        #expect(critical.stdout.hasPrefix("DRCTL CRITICAL - db: last backup 3h ago (rpo 3h) | 'db_backup_age'=11400s;;10800\n"),
                "\(critical)")
        let json = try Self.check(sandbox, ["--json"], now: last.addingTimeInterval(3 * 3600 + 600))
        #expect(json.status == 2, "\(json)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(document["status"] as? String == "CRITICAL")
        let target = try #require((document["targets"] as? [[String: Any]])?.first)
        #expect((target["last_backup"] as? [String: Any])?["age_seconds"] as? Double == 11_400)
        #expect(target["rpo_seconds"] as? Double == 10_800)

        // A backup succeeds: OK again, by the real clock.
        #expect(try sandbox.drctl(["backup"]).status == 0)
        let recovered = try Self.check(sandbox)
        #expect(recovered.status == 0, "\(recovered)")
        #expect(recovered.stdout.hasPrefix("DRCTL OK - db: last backup "), "\(recovered)")
    }

    /// Without an RPO objective, one missed run is a warning and two are critical.
    @Test func twoMissedRunsAreCriticalWithoutAnRPO() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [], rawTargets: """
              - name: db
                kind: command
                command: ["echo", "hello"]
                schedule: "0 3 * * *"
                timezone: Europe/Berlin

            """)
        #expect(try sandbox.drctl(["backup"]).status == 0)
        // 03:00 Berlin on 2026-06-10 is 01:00 UTC.
        let last = try #require(Timestamp.parse("2026-06-10T01:00:02Z"))
        try Self.moveBackupBack(sandbox, target: "db", to: last, regions: [sandbox.repository])
        #expect(try Self.check(sandbox, ["--grace", "1h"], now: last.addingTimeInterval(86_400 + 1800)).status == 0)
        let once = try Self.check(sandbox, ["--grace", "1h"], now: last.addingTimeInterval(86_400 + 3700))
        #expect(once.status == 1 && once.stdout.contains("the next was due 2026-06-11T01:00:00.000Z"), "\(once)")
        let twice = try Self.check(sandbox, ["--grace", "1h"], now: last.addingTimeInterval(2 * 86_400 + 3700))
        #expect(twice.status == 2, "\(twice)")
    }

    /// Drill records and regions: no drill, an old one, a failed one; a region lacking the newest
    /// backup; a region that cannot be read.
    @Test func drillsAndRegions() throws {
        let sandbox = try Sandbox()
        let second = "\(sandbox.root)/second"
        try sandbox.writePolicy(targets: [], regions: [("local", sandbox.repository), ("second", second)], rawTargets: """
              - name: db
                kind: command
                command: ["echo", "hello"]
                drill: {enabled: true}

            """)
        #expect(try sandbox.drctl(["backup"]).status == 0)
        let never = try Self.check(sandbox)
        #expect(never.status == 1 && never.stdout.hasPrefix("DRCTL WARNING - db: no drill yet (drills are enabled)"), "\(never)")

        func writeDrill(daysAgo: Double, result: DrillResult, reasons: [String] = []) throws {
            let started = Date().addingTimeInterval(-daysAgo * 86_400)
            let record = DrillRecord(
                drillID: BackupID(startedAt: started).rawValue, target: "db", kind: "command", tool: ToolInfo(version: "test"),
                backupID: nil, region: "local", startedAt: started, finishedAt: started.addingTimeInterval(30), result: result,
                reasons: reasons, rtoSeconds: 30, rpoSeconds: 60, recoveryPoint: started, restoredBytes: 6,
                throughputBytesPerSecond: nil, phases: [],
                // A drill that did not fail checked something (readers refuse one that did not).
                checks: result == .failed ? [] : [DrillCheckResult(name: "size stdout", expected: "6", actual: "6", passed: true)],
                objectives: DrillObjectives())
            _ = Repository(regions: [Region(name: "local", store: LocalDirectoryStore(root: sandbox.repository))]).write(record, signedBy: sandbox.signingKey)
        }
        /// The check's exit status and the start of its first line.
        func expectCheck(_ status: Int32, _ line: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let result = try Self.check(sandbox)
            #expect(result.status == status && result.stdout.hasPrefix(line), "\(result)", sourceLocation: sourceLocation)
        }
        try writeDrill(daysAgo: 40, result: .passed)
        try expectCheck(1, "DRCTL WARNING - db: no drill in 35 days (last 40d ago)")
        try writeDrill(daysAgo: 1, result: .failed, reasons: ["rows app.public.orders: expected 10, got 9"])
        try expectCheck(2, "DRCTL CRITICAL - db: last drill failed 24h ago: rows app.public.orders: expected 10, got 9")
        try writeDrill(daysAgo: 0.5, result: .passed)
        try expectCheck(0, "DRCTL OK - db: ")
        try writeDrill(daysAgo: 0.25, result: .objectivesMissed, reasons: ["rto 40s over its objective 30s"])
        try expectCheck(1, "DRCTL WARNING - db: last drill missed its objectives 6h ago: rto 40s over its objective 30s")
        try writeDrill(daysAgo: 0.1, result: .passed)
        try expectCheck(0, "DRCTL OK - db: ")

        // The second region lost the newest backup, committed there: removed by something other than prune.
        #expect(try sandbox.drctl(["backup"]).status == 0)
        let newest = try #require(try FileManager.default.contentsOfDirectory(atPath: "\(second)/manifests/db").sorted().last)
        try FileManager.default.removeItem(atPath: "\(second)/manifests/db/\(newest)")
        let degraded = try Self.check(sandbox)
        #expect(degraded.status == 1, "\(degraded)")
        #expect(degraded.stdout.hasPrefix("DRCTL WARNING - db: region second lacks the newest backup \(newest.dropLast(5)), "
            + "which was committed there: its manifest was removed"), "\(degraded)")
        #expect(degraded.stdout.contains("  region local: ok, 2 backup(s), newest ")
                && degraded.stdout.contains("  region second: degraded, 1 backup(s), newest "), "\(degraded)")

        // A manifest that is not one is a warning naming it; the region's other backups still count.
        try "garbage".write(toFile: "\(second)/manifests/db/20200101T000000.000Z-abcdef.json", atomically: true, encoding: .utf8)
        let damaged = try Self.check(sandbox)
        #expect(damaged.status == 1, "\(damaged)")
        #expect(damaged.stdout.contains("cannot read 'manifests/db/20200101T000000.000Z-abcdef.json' in region 'second'")
                && damaged.stdout.contains("  region second: degraded, 1 backup(s), newest "), "\(damaged)")

        // A region that cannot be listed (its directory a symbolic link to itself) is a warning
        // while another can; none listable is critical.
        func unlistable(_ region: String) throws {
            try FileManager.default.removeItem(atPath: "\(region)/manifests/db")
            try FileManager.default.createSymbolicLink(atPath: "\(region)/manifests/db", withDestinationPath: "db")
        }
        try unlistable(second)
        let unreadable = try Self.check(sandbox)
        #expect(unreadable.status == 1 && unreadable.stdout.contains("region second unreadable"), "\(unreadable)")
        try unlistable(sandbox.repository)
        let blind = try Self.check(sandbox)
        #expect(blind.status == 2 && blind.stdout.hasPrefix("DRCTL CRITICAL - db: no region could be read"), "\(blind)")
    }

    /// A run that failed after the last good backup is a warning (the backup itself is still
    /// fresh); the next good backup clears it.
    @Test func aFailedRunAfterTheLastBackupIsAWarning() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("db", ["echo", "hello"])])
        #expect(try sandbox.drctl(["backup"]).status == 0)
        #expect(try Self.check(sandbox).status == 0)
        try sandbox.writePolicy(targets: [("db", ["sh", "-c", "echo partial; exit 3"])])
        #expect(try sandbox.drctl(["backup"]).status == 1)
        let failed = try Self.check(sandbox)
        #expect(failed.status == 1, "\(failed)")
        #expect(failed.stdout.hasPrefix("DRCTL WARNING - db: the last backup run failed ("), "\(failed)")
        #expect(failed.stdout.contains("exit"), "\(failed)")
        try sandbox.writePolicy(targets: [("db", ["echo", "hello"])])
        #expect(try sandbox.drctl(["backup"]).status == 0)
        #expect(try Self.check(sandbox).status == 0)
    }

    @Test func aCheckThatCannotRunIsUnknown() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("db", ["echo", "hello"])])
        let target = try Self.check(sandbox, ["--target", "nope"])
        #expect(target.status == 3 && target.stdout.hasPrefix("DRCTL UNKNOWN - no target named 'nope'"), "\(target)")
        let grace = try Self.check(sandbox, ["--grace", "soon"])
        #expect(grace.status == 3 && grace.stdout.hasPrefix("DRCTL UNKNOWN - --grace"), "\(grace)")
        let policy = try Drctl.run(["check", "--policy", "\(sandbox.root)/missing.yaml"])
        #expect(policy.status == 3 && policy.stdout.hasPrefix("DRCTL UNKNOWN - "), "\(policy)")
        // check reads only: nothing was written to the repository.
        #expect(!FileManager.default.fileExists(atPath: sandbox.repository))
    }
}
