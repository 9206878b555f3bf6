import Foundation
import Glibc
import Testing

/// Failures while backing up: reported, non-zero, nothing listed, nothing left behind.
@Suite struct FailureTests {
    /// After a failed backup the repository holds nothing but its marker.
    func expectNothingStored(_ sandbox: Sandbox, in repository: String? = nil,
                             sourceLocation: SourceLocation = #_sourceLocation) throws {
        let files = sandbox.backupFiles(under: repository ?? sandbox.repository)
        #expect(files.allSatisfy { $0 == "repository.json" }, "left behind: \(files)", sourceLocation: sourceLocation)
        let list = try sandbox.drctl(["list", "--json"])
        #expect(list.status == 0 && list.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[\n\n]"
                || list.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]", "\(list)", sourceLocation: sourceLocation)
    }

    @Test func programExitsNonZeroMidStream() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("t", ["sh", "-c", "head -c 3000000 /dev/urandom; echo 'disk on fire' >&2; exit 3"])])
        let backup = try sandbox.drctl(["backup"])
        #expect(backup.status == 1, "\(backup)")
        #expect(backup.stderr.contains("'sh' exited with status 3") && backup.stderr.contains("disk on fire"), "\(backup)")
        try expectNothingStored(sandbox)
        // The run is history all the same: a failure record names the error.
        let records = sandbox.files(under: "\(sandbox.repository)/records/t/failures")
        #expect(records.count == 1, "\(records)")
        let record = try String(contentsOfFile: "\(sandbox.repository)/records/t/failures/\(records.first ?? "")", encoding: .utf8)
        #expect(record.contains("drctl-failure-record") && record.contains("exited with status 3"), "\(record)")
    }

    @Test func programKilledMidStream() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("t", ["sh", "-c", "head -c 3000000 /dev/urandom; kill -9 $$"])])
        let backup = try sandbox.drctl(["backup"])
        #expect(backup.status == 1, "\(backup)")
        #expect(backup.stderr.contains("killed by signal 9"), "\(backup)")
        try expectNothingStored(sandbox)
    }

    @Test func programMissing() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("t", ["/nonexistent/dump-tool", "--all"])])
        let backup = try sandbox.drctl(["backup"])
        #expect(backup.status == 1, "\(backup)")
        #expect(backup.stderr.contains("cannot start '/nonexistent/dump-tool'"), "\(backup)")
        try expectNothingStored(sandbox)
    }

    /// A repository on a 2 MiB tmpfs receiving 8 MiB.
    @Test func repositoryDiskFull() throws {
        let sandbox = try Sandbox()
        let full = "\(sandbox.root)/full"
        try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
        let mount = try Command.run(["/bin/mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", full])
        try #require(mount.status == 0, "this test needs to mount a tmpfs (run as root): \(mount)")
        try sandbox.writePolicy(targets: [("t", ["head", "-c", "8000000", "/dev/urandom"])], regions: [("small", full)])
        let backup = try sandbox.drctl(["backup"])
        #expect(backup.status == 1, "\(backup)")
        #expect(backup.stderr.contains("no space left"), "\(backup)")
        try expectNothingStored(sandbox, in: full)
    }

    /// SIGTERM mid-backup: every stage stops, the partial object goes, the exit is prompt.
    @Test func terminatedMidBackup() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("t", ["sh", "-c", "head -c 2000000 /dev/urandom; exec sleep 617"])])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Drctl.binary)
        process.arguments = ["backup", "--policy", sandbox.policyPath]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait until the data object is being written, then stop the agent.
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline && !sandbox.files(under: sandbox.repository).contains(where: { $0.contains(".tmp-") }) {
            usleep(50_000)
        }
        let started = Date()
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(Date().timeIntervalSince(started) < 10, "took \(Date().timeIntervalSince(started)) s")
        #expect(process.terminationStatus == 143)
        try expectNothingStored(sandbox)
        // The source program was stopped too.
        let survivors = try Command.run(["/bin/sh", "-c", "pgrep -f '^sleep 617$' | wc -l"]).stdout
        #expect(survivors.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    }
}

/// Several local regions: degraded and failed backups, and restore falling back.
@Suite struct RegionTests {
    @Test func brokenRegionDegradesOrFails() throws {
        let sandbox = try Sandbox()
        let broken = "\(sandbox.root)/not-a-directory"
        try "x".write(toFile: broken, atomically: true, encoding: .utf8)
        let good = "\(sandbox.root)/good"
        try sandbox.writePolicy(targets: [("t", ["echo", "hello"])], regions: [("good", good), ("broken", broken)])
        let degraded = try sandbox.drctl(["backup", "--json"])
        #expect(degraded.status == 0, "\(degraded)")
        #expect(degraded.stdout.contains("\"degraded\""), "\(degraded)")
        #expect(degraded.stderr.contains("broken"), "\(degraded)")

        try sandbox.writePolicy(targets: [("t", ["echo", "hello"])], regions: [("good", good), ("broken", broken)], minRegions: 2)
        let failed = try sandbox.drctl(["backup"])
        #expect(failed.status == 1, "\(failed)")
        #expect(failed.stderr.contains("min_regions is 2"), "\(failed)")
        let list = try sandbox.drctl(["list", "--json"])
        #expect(list.stdout.components(separatedBy: "backup_id").count - 1 == 1, "only the degraded one: \(list)")
    }

    @Test func restoreFallsBackToTheNextRegion() throws {
        let sandbox = try Sandbox()
        let first = "\(sandbox.root)/r1"
        let second = "\(sandbox.root)/r2"
        try sandbox.writePolicy(targets: [("t", ["seq", "1", "100000"])], regions: [("r1", first), ("r2", second)])
        #expect(try sandbox.drctl(["backup"]).status == 0)
        let object = sandbox.files(under: first).first { $0.hasSuffix("/stdout") }!
        let path = "\(first)/\(object)"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0x10
        try bytes.write(to: URL(fileURLWithPath: path))

        let out = "\(sandbox.root)/restored"
        let restore = try sandbox.drctl(["restore", "--target", "t", "--to", out])
        #expect(restore.status == 0, "\(restore)")
        #expect(try String(contentsOfFile: out, encoding: .utf8) == (try Command.shell("seq 1 100000")))
        #expect(restore.stderr.contains("region=r1") && restore.stdout.contains("from region r2"), "\(restore)")
        #expect(restore.stderr.contains("chunk"), "names the damage: \(restore)")

        // Only r1 asked for: the damage is the answer.
        let only = try sandbox.drctl(["restore", "--target", "t", "--to", "\(out)-r1", "--region", "r1"])
        #expect(only.status == 3, "\(only)")
        #expect(!FileManager.default.fileExists(atPath: "\(out)-r1"))
        let unknown = try sandbox.drctl(["restore", "--target", "t", "--to", "-", "--region", "nope"])
        #expect(unknown.status == 5 && unknown.stderr.contains("no region named 'nope'"), "\(unknown)")

        let verify = try sandbox.drctl(["verify"])
        #expect(verify.status == 3, "\(verify)")
        #expect(verify.stdout.contains("r1: FAILED") && verify.stdout.contains("r2: ok"), "\(verify)")
    }
}
