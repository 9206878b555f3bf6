import Foundation
import Testing

/// `drill.pick: random` restores a backup drawn from those within `drill.window`, so drills
/// prove older backups too; the RPO stays that of the newest backup.
@Suite struct DrillPickTests {
    @Test func randomPickStaysWithinTheWindow() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [], rawTargets: """
              - name: files
                kind: command
                command: ["date", "+%s%N"]
                drill: {pick: random, window: 15s}
            """)
        func backup() throws -> String {
            let result = try sandbox.drctl(["backup", "--json"])
            let listed = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
            return try #require(listed.first?["backup_id"] as? String)
        }
        let old = try backup()
        // `old` is out of the window from the first drill on; `older` stays in it as long as the
        // 12 drills take less than ~13 s, a margin for a loaded machine (a 6 s window left 4 s).
        sleep(16)
        // 1.5 s apart, so an RPO taken from the drawn backup instead of the newest shows.
        let older = try backup()
        usleep(1_500_000)
        let recent = [older, try backup()]
        let newestMade = Date()
        var chosen: [String] = []
        var rpos: [Double] = []
        var ages: [Double] = []
        for _ in 0..<12 {
            let drill = try sandbox.drctl(["drill", "--json", "--scratch-dir", "\(sandbox.root)/scratch"])
            #expect(drill.status == 0, "\(drill)")
            let record = ((try? JSONSerialization.jsonObject(with: Data(drill.stdout.utf8))) as? [[String: Any]])?.first ?? [:]
            chosen.append(record["backup_id"] as? String ?? "")
            rpos.append(record["rpo_seconds"] as? Double ?? 99)
            ages.append(Date().timeIntervalSince(newestMade))
        }
        #expect(!chosen.contains(old), "a backup older than the window was drilled")
        #expect(Set(chosen) == Set(recent), "both backups in the window are drawn: \(chosen)")
        // The RPO is the newest backup's age at the drill (however slow the machine), never the
        // age of the backup drawn.
        #expect(zip(rpos, ages).allSatisfy { rpo, age in rpo >= 0 && rpo <= age + 0.5 }, "RPO is the newest backup's age: \(rpos) vs \(ages)")
    }

    @Test func windowWithoutRandomIsRefused() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [], rawTargets: """
              - name: files
                kind: command
                command: ["true"]
                drill: {pick: newest, window: 3d}
            """)
        let validate = try Drctl.run(["policy", "validate", sandbox.policyPath])
        let problems = validate.stdout + validate.stderr
        #expect(validate.status == 2)
        #expect(problems.contains("targets[0].drill.pick") && problems.contains("latest"), "\(validate)")
        #expect(problems.contains("targets[0].drill.window") && problems.contains("pick: random"), "\(validate)")
    }
}
