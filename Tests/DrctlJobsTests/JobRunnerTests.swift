import Foundation
import Testing
import DrctlJobs
import DrctlStorage

/// The jobs run in-process through `JobRunner`, as the commands and the agent run them, against
/// local directory regions and `kind: command` targets.
@Suite struct JobRunnerTests {
    /// The manifest is the commit point: while the command still streams, no manifest is in the
    /// region; afterwards the manifest names the data object as stored, and it restores.
    @Test func aBackupCommitsItsManifestOnlyOnceItsDataIsStored() async throws {
        let scratch = try ScratchRepository(script: "printf hello; ls -R ROOT/repo/manifests > ROOT/seen-while-streaming 2>&1; true")
        let manifest = try await scratch.runner.run(BackupJob(target: scratch.target))

        let seen = try String(contentsOfFile: "\(scratch.root)/seen-while-streaming", encoding: .utf8)
        #expect(!seen.contains(".json"), "a manifest was listed before the data was stored: \(seen)")
        #expect(try scratch.keys(under: "manifests/t/") == [RepositoryLayout.manifestKey(target: "t", backup: BackupID(manifest.backupID)!)])
        #expect(manifest.objects.count == 1 && manifest.rawSize == 5 && manifest.status == .complete)
        let stored = try #require(try scratch.store().stat(manifest.objects[0].key))
        #expect(stored.size == manifest.objects[0].storedSize)

        let restored = "\(scratch.root)/restored"
        let outcome = try await scratch.runner.run(RestoreJob(target: scratch.target, backupID: manifest.backupID,
                                                              destination: restored, force: false, preferredRegion: nil))
        #expect(outcome.region == "local")
        #expect(try String(contentsOfFile: restored, encoding: .utf8) == "hello")
    }

    /// Two regions, one that no write reaches, and min_regions 2: the backup fails short of its
    /// quorum, leaves no manifest and no data in the region that took the writes, and its
    /// failure record there says why.
    @Test func aBackupShortOfItsQuorumCommitsNothingAndRecordsTheFailure() async throws {
        let scratch = try ScratchRepository(regions: [("good", "good"), ("bad", "blocker/repo")], minRegions: 2, script: "printf hello")
        // A plain file where the region's directory would go: even root cannot write below it.
        #expect(FileManager.default.createFile(atPath: "\(scratch.root)/blocker", contents: Data()))

        await #expect(throws: RegionQuorumError.self) {
            try await scratch.runner.run(BackupJob(target: scratch.target))
        }
        #expect(try scratch.keys(under: "manifests/", in: "good").isEmpty)
        #expect(try scratch.keys(under: "data/", in: "good").isEmpty)
        let records = try scratch.failureRecords(of: "t")
        #expect(records.count == 1)
        #expect(records.first?.error.contains("min_regions is 2") == true, "\(records.map(\.error))")
        #expect(records.first?.regions == ["good"])
    }

    /// A signal while the command streams stops the backup: the job throws `interrupted`, no
    /// manifest and no data object stay behind, and the failure record names the signal.
    @Test func anInterruptedBackupLeavesNothingCommitted() async throws {
        let scratch = try ScratchRepository(script: "printf partial; touch ROOT/started; exec sleep 600")
        let target = scratch.target
        let runner = scratch.runner
        let backup = Task { try await runner.run(BackupJob(target: target)) }
        try await scratch.waitFor("started")
        scratch.interruption.interrupt(signal: "SIGTERM")

        let result = await backup.result
        try scratch.expectInterruptedBySIGTERM(result)
    }

    /// Another run takes the target's lock over while the command streams: the backup does
    /// not commit (the other run may be removing its objects as leftovers), leaves no manifest,
    /// and its failure record names the lost lock.
    @Test func aBackupThatLostItsLockCommitsNothing() async throws {
        let scratch = try ScratchRepository(
            script: "printf data; touch ROOT/started; while [ ! -e ROOT/proceed ]; do sleep 0.02; done")
        let (runner, target) = (scratch.runner, scratch.target)
        let backup = Task { try await runner.run(BackupJob(target: target)) }
        try await scratch.waitFor("started")
        try scratch.takeOverLock(of: "t")
        scratch.release("proceed")

        let result = await backup.result
        guard case .failure(let error) = result else {
            Issue.record("the backup committed without its lock: \(result)")
            return
        }
        #expect(error is RegionQuorumError && "\(error)".contains("lost the lock of target 't'"), "\(error)")
        #expect(try scratch.keys(under: "manifests/").isEmpty)
        #expect(try scratch.failureRecords(of: "t").map(\.error).first?.contains("lost the lock") == true)
    }

    /// list, prune and check through the same runner: two backups listed, prune keeps the
    /// newer (keep_last 1) and removes the older's data, and check finds the newer as the last.
    @Test func listPruneAndCheckRunThroughTheRunner() async throws {
        let scratch = try ScratchRepository(script: "printf v", retention: "{keep_last: 1}")
        let target = scratch.target
        let runner = scratch.runner
        let older = try await runner.run(BackupJob(target: target))
        let newer = try await runner.run(BackupJob(target: target))
        #expect(try await runner.run(ListJob(target: "t")).entries.map(\.manifest.backupID) == [older.backupID, newer.backupID])

        let report = try await runner.run(PruneJob(target: target, dryRun: false))
        #expect(report.errors.isEmpty, "\(report.errors)")
        #expect(report.removed.map(\.backupID) == [older.backupID])
        #expect(report.kept.map(\.backupID) == [newer.backupID])
        #expect(try await runner.run(ListJob(target: "t")).entries.map(\.manifest.backupID) == [newer.backupID])
        #expect(try scratch.keys(under: "data/t/") == newer.objects.map(\.key))

        let health = try await runner.run(CheckJob(targets: [target]))
        #expect(health.targets.map(\.target) == ["t"])
        #expect(health.targets.first?.lastBackup?.backupID == newer.backupID)
    }

    /// A job written outside DrctlJobs (docs/ARCHITECTURE.md, "Jobs", shows it) conforms in a few
    /// lines and runs through the same runner.
    @Test func aNewJobIsAConformanceAndRunsThroughTheRunner() async throws {
        let scratch = try ScratchRepository(script: "printf v")
        #expect(try await scratch.runner.run(CountJob(target: "t")) == ["local": 0])
        _ = try await scratch.runner.run(BackupJob(target: scratch.target))
        #expect(try await scratch.runner.run(CountJob(target: "t")) == ["local": 1])
    }
}

/// The number of backups of a target each region holds.
struct CountJob: BlockingJob {
    let target: String
    func runBlocking(in context: JobContext) throws -> [String: Int] {
        let repository = try Repository(readingPolicy: context.policy.repository)
        return try Dictionary(uniqueKeysWithValues: repository.regions.map {
            ($0.name, try repository.manifests(in: $0, target: target).manifests.count)
        })
    }
}
