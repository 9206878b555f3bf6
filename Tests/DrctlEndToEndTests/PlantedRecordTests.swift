import Foundation
import Testing
import DrctlStorage

/// Issue #22: drill and failure records and locks planted by someone who can write to a region
/// but holds no key. The readers' rules (docs/FORMAT.md, "Readers' rules") ignore them, named.
@Suite struct PlantedRecordTests {
    /// A real failed drill (its backup's object truncated), then planted `passed` drill records:
    /// one dated an hour ahead, one that checked nothing. Either became check's last drill and
    /// hid the failure; now check stays CRITICAL and names the planted record.
    @Test func aPlantedPassedDrillDoesNotBecomeTheLastDrill() throws {
        let sandbox = try PlantedManifestTests.sandbox()
        let id = try PlantedManifestTests.backup(sandbox)
        try Command.shell("truncate -s -20 '\(sandbox.repository)/data/t/\(id)/stdout'")
        let drill = try sandbox.drctl(["drill", "--scratch-dir", "\(sandbox.root)/scratch"])
        #expect(drill.status == 1, "\(drill)")
        let drills = "\(sandbox.repository)/records/t/drills"
        let real = try #require(try FileManager.default.contentsOfDirectory(atPath: drills).first)
        let before = try sandbox.drctl(["check"])
        #expect(before.status == 2 && before.stdout.contains("last drill failed"), "\(before)")

        let check: [String: Any] = ["name": "size stdout", "expected": "6", "actual": "6", "passed": true]
        let future = try PlantedJSON.record(copying: "\(drills)/\(real)", idKey: "drill_id", as: Date().addingTimeInterval(3600),
                                            changes: ["result": "passed", "reasons": [String](), "checks": [check]])
        let ahead = try sandbox.drctl(["check"])
        #expect(ahead.status == 2 && ahead.stdout.contains("last drill failed"), "\(ahead)")
        #expect(ahead.stdout.contains(URL(fileURLWithPath: future).lastPathComponent) && ahead.stdout.contains("in the future"), "\(ahead)")
        try FileManager.default.removeItem(atPath: future)

        let unchecked = try PlantedJSON.record(copying: "\(drills)/\(real)", idKey: "drill_id", as: Date(),
                                               changes: ["result": "passed", "reasons": [String](), "checks": [[String: Any]]()])
        let nothing = try sandbox.drctl(["check"])
        #expect(nothing.status == 2 && nothing.stdout.contains("last drill failed"), "\(nothing)")
        #expect(nothing.stdout.contains(URL(fileURLWithPath: unchecked).lastPathComponent) && nothing.stdout.contains("no checks"),
                "\(nothing)")
    }

    /// A real failed backup run, then a planted failure record dated an hour ahead: it was
    /// check's last failure (the real one's run and error hidden behind it) and would count as
    /// the agent's last backup run. Now the real one is the last failure.
    @Test func aPlantedFutureFailureDoesNotHideTheRealOne() throws {
        let sandbox = try Sandbox()
        let input = "\(sandbox.root)/input"
        try "data\n".write(toFile: input, atomically: true, encoding: .utf8)
        try PlantedManifestTests.writePolicy(sandbox, command: ["cat", input])
        _ = try PlantedManifestTests.backup(sandbox)
        try FileManager.default.removeItem(atPath: input)
        #expect(try sandbox.drctl(["backup"]).status != 0)
        let failures = "\(sandbox.repository)/records/t/failures"
        let real = try #require(try FileManager.default.contentsOfDirectory(atPath: failures).first)
        try PlantedJSON.record(copying: "\(failures)/\(real)", idKey: "run_id", as: Date().addingTimeInterval(3600))

        let check = try sandbox.drctl(["check", "--json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: Any])
        let target = try #require((document["targets"] as? [[String: Any]])?.first)
        #expect((target["last_failure"] as? [String: Any])?["run_id"] as? String == String(real.dropLast(".json".count)), "\(check)")
        let findings = "\(target["findings"] ?? "")"
        #expect(findings.contains("in the future"), "the planted record is named: \(check)")
    }

    /// A planted lock that expires in 2099 (or was "written" in 2099) blocked every backup of
    /// the target while check stayed green. Now it is not honoured, and both name it.
    @Test(arguments: [false, true])
    func aLockBeyondTheMaximumLifetimeDoesNotBlockBackups(writtenInTheFuture: Bool) throws {
        let sandbox = try PlantedManifestTests.sandbox()
        let written = writtenInTheFuture ? Timestamp.parse("2099-01-01T00:00:00.000Z")! : Date()
        let lock: [String: Any] = [
            "acquired_at": Timestamp.format(written), "expires_at": Timestamp.format(writtenInTheFuture ? written.addingTimeInterval(600)
                                                                                   : Timestamp.parse("2099-01-01T00:00:00.000Z")!),
            "format": "drctl-lock", "generation": 1, "state": "held", "target": "t", "version": 1,
            "owner": ["host": "elsewhere", "operation": "backup", "pid": 1, "run_id": BackupID(startedAt: Date()).rawValue],
            "written_at": Timestamp.format(written),
        ]
        let key = "locks/t/000000000001.json"
        try PlantedJSON.write(lock, to: "\(sandbox.repository)/\(key)")

        let check = try sandbox.drctl(["check"])
        #expect(check.stdout.contains(key), "check names the lock: \(check)")
        let backup = try sandbox.drctl(["backup"])
        #expect(backup.status == 0, "\(backup)")
        #expect(backup.stderr.contains(key), "the lock is named: \(backup)")
    }
}
