import Foundation
import Glibc
import Testing
import DrctlStorage

/// The per-target lock in the repository (docs/FORMAT.md, "Lock"), through the CLI.
@Suite struct LockTests {
    /// A lock object as another host would have written it (`Sandbox.plantLock` signs it as
    /// that host does in a version 2 repository).
    static func lockJSON(generation: Int, state: String, host: String, expires: Date) -> String {
        """
        {
          "acquired_at" : "\(Timestamp.format(expires.addingTimeInterval(-600)))",
          "expires_at" : "\(Timestamp.format(expires))",
          "format" : "drctl-lock",
          "generation" : \(generation),
          "owner" : {
            "host" : "\(host)",
            "operation" : "backup",
            "pid" : 777,
            "run_id" : "20261122T051008.412Z-3f9a1c"
          },
          "state" : "\(state)",
          "target" : "t",
          "version" : 1,
          "written_at" : "\(Timestamp.format(expires.addingTimeInterval(-600)))"
        }

        """
    }

    static func backupCount(_ sandbox: Sandbox) throws -> Int {
        try sandbox.drctl(["list", "--json"]).stdout.components(separatedBy: "\"backup_id\"").count - 1
    }

    @Test func twoBackupsAtOnceMakeExactlyOneBackup() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("t", ["sh", "-c", "sleep 2; echo hello"])])
        let runs = try (0..<2).map { _ in try RunningDrctl(["backup", "--policy", sandbox.policyPath]) }
        let results = runs.map { $0.wait() }
        let statuses = results.map(\.status).sorted()
        #expect(statuses == [0, 8], "\(results)")
        let refused = try #require(results.first { $0.status == 8 })
        #expect(refused.stderr.contains("target 't' is locked by backup ") && refused.stderr.contains("pid"), "\(refused)")
        #expect(try Self.backupCount(sandbox) == 1)
        // Released at the end: the next backup runs.
        #expect(try sandbox.drctl(["backup"]).status == 0)
        #expect(try Self.backupCount(sandbox) == 2)
    }

    @Test func aLockHeldByAnotherHostRefusesAndAnExpiredOneIsTakenOver() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("t", ["echo", "hello"])])
        let locks = "\(sandbox.repository)/locks/t"
        try sandbox.plantLock(Self.lockJSON(generation: 1, state: "held", host: "db-host-2", expires: Date().addingTimeInterval(300)),
                              generation: 1)
        let refused = try sandbox.drctl(["backup"])
        #expect(refused.status == 8, "\(refused)")
        #expect(refused.stderr.contains("target 't' is locked by backup 20261122T051008.412Z-3f9a1c on host db-host-2 (pid 777)"),
                "\(refused)")
        #expect(try Self.backupCount(sandbox) == 0)

        // The same holder, now expired (it died): taken over with a log line.
        try sandbox.plantLock(Self.lockJSON(generation: 2, state: "held", host: "db-host-2", expires: Date().addingTimeInterval(-1)),
                              generation: 2)
        let taken = try sandbox.drctl(["backup"])
        #expect(taken.status == 0, "\(taken)")
        #expect(taken.stderr.contains("took over an expired lock") && taken.stderr.contains("db-host-2"), "\(taken)")
        #expect(try Self.backupCount(sandbox) == 1)
        // Our run took generation 3, renewed it before the commit as 4 and released it as 5;
        // older ones were cleaned up.
        #expect(sandbox.files(under: locks) == ["000000000004.json", "000000000005.json"])
        let released = try String(contentsOfFile: "\(locks)/000000000005.json", encoding: .utf8)
        #expect(released.contains("\"state\" : \"released\""), "\(released)")
    }

    /// A backup killed outright (SIGKILL: it cannot release) leaves its lock held; its owner
    /// ran on this host and is gone, so the next backup takes the lock over at once, with a
    /// warning, instead of refusing until the lock expires (600 s).
    @Test func theLockOfAKilledBackupOnThisHostIsTakenOverAtOnce() throws {
        let sandbox = try Sandbox()
        let started = "\(sandbox.root)/dump-started"
        try sandbox.writePolicy(targets: [("t", ["sh", "-c", "touch '\(started)'; exec sleep 60"])])
        let killed = try RunningDrctl(["backup", "--policy", sandbox.policyPath])
        #expect(eventually(within: 30) { FileManager.default.fileExists(atPath: started) })
        kill(killed.process.processIdentifier, SIGKILL)
        _ = killed.wait()

        try sandbox.writePolicy(targets: [("t", ["echo", "hello"])])
        let next = try sandbox.drctl(["backup"])
        #expect(next.status == 0, "\(next)")
        #expect(next.stderr.contains("took over the lock of a run that is no longer alive")
                && next.stderr.contains("pid \(killed.process.processIdentifier)"), "\(next)")
    }

    /// A pid of this host that is alive but started after the lock was taken is another process
    /// (the pid was reused): the lock is taken over. Without a recorded start time (a lock from
    /// an older drctl) a live pid cannot be told apart, and the lock is honoured.
    @Test func aLockWhosePidWasReusedIsTakenOverAndOneWithoutStartTimeIsHonoured() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("t", ["echo", "hello"])])
        let host = ProcessInfo.processInfo.hostName
        func plant(_ generation: Int, processStart: String?) throws {
            var json = Self.lockJSON(generation: generation, state: "held", host: host, expires: Date().addingTimeInterval(300))
                .replacingOccurrences(of: "\"pid\" : 777", with: "\"pid\" : \(getpid())")
            if let processStart {
                json = json.replacingOccurrences(of: "\"operation\" : \"backup\",",
                                                 with: "\"operation\" : \"backup\",\n    \"process_start\" : \(processStart),")
            }
            try sandbox.plantLock(json, generation: generation)
        }
        try plant(1, processStart: nil)
        let honoured = try sandbox.drctl(["backup"])
        #expect(honoured.status == 8, "\(honoured)")

        try plant(2, processStart: "1")   // this test's pid, but not its start time
        let taken = try sandbox.drctl(["backup"])
        #expect(taken.status == 0, "\(taken)")
        #expect(taken.stderr.contains("took over the lock of a run that is no longer alive"), "\(taken)")
    }

    /// A backup that lost its lock (it did not renew in time, and another run took the target
    /// over) commits nothing: that run may be removing its objects as leftovers.
    @Test func aBackupThatLostItsLockCommitsNothing() throws {
        let sandbox = try Sandbox()
        let started = "\(sandbox.root)/dump-started"
        try sandbox.writePolicy(targets: [("t", ["sh", "-c", "touch \(started); sleep 2; echo hello"])])
        let run = try RunningDrctl(["backup", "--policy", sandbox.policyPath])
        // The lock is taken before the source starts.
        var waited = 0
        while !FileManager.default.fileExists(atPath: started) && waited < 1000 { usleep(10_000); waited += 1 }
        let locks = "\(sandbox.repository)/locks/t"
        let ours = try #require(sandbox.files(under: locks).last, "the backup holds no lock")
        let generation = try #require(Int(ours.prefix { $0 != "." }))
        // What a run on another host writes when it takes over an expired lock.
        let next = String(format: "%012d.json", generation + 1)
        try sandbox.plantLock(Self.lockJSON(generation: generation + 1, state: "held", host: "db-host-2",
                                            expires: Date().addingTimeInterval(300)), generation: generation + 1)

        let result = run.wait()
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("lost the lock of target 't' in region 'local' (taken over by backup "), "\(result)")
        #expect(result.stderr.contains("db-host-2"), "\(result)")
        #expect(try Self.backupCount(sandbox) == 0)
        #expect(sandbox.files(under: "\(sandbox.repository)/data").isEmpty)
        // The other run's lock is left alone: it still keeps everyone else out.
        #expect(sandbox.files(under: locks).last == next)
        #expect(try sandbox.drctl(["backup"]).status == 8)
    }
}
