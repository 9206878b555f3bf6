import Foundation
import Logging
import Testing
import DrctlCrypto
import DrctlJobs
import DrctlPolicy
import DrctlStorage

/// SIGTERM stops a prune before its next removal (`PruneJob.interruption`, which `drctl prune`
/// and the agent route their signals to): the report says so, nothing more is removed, and the
/// target's lock is released for the next run.
@Suite struct PruneInterruptionTests {
    @Test func aSignalStopsPruneBeforeItsNextRemovalAndReleasesTheLock() async throws {
        let (scratch, store) = try Self.threeDailyBackups()
        let policy = scratch.policy

        let interruption = Interruption()
        interruption.interrupt(signal: "SIGTERM")
        let stopped = try await JobRunner(JobContext(policy: policy, logger: Logger(label: "test"), interruption: interruption))
            .run(PruneJob(target: policy.targets[0], dryRun: false))
        #expect(stopped.interruptedBy == "SIGTERM")
        #expect(stopped.errors.contains { $0.contains("interrupted by SIGTERM") }, "\(stopped.errors)")
        #expect(try store.list(prefix: "manifests/t/").count == 3)
        #expect(try store.list(prefix: "data/t/").count == 3)

        // The lock was released: another run takes it at once.
        let owner = LockOwner(host: "test", pid: 1, runID: "next", operation: "prune")
        try TargetLock.acquire(target: "t", owner: owner, regions: [Region(name: "local", store: store)]).release()

        // Without a signal the same prune removes the two older backups, data and all.
        let full = try await JobRunner(JobContext(policy: policy, logger: Logger(label: "test")))
            .run(PruneJob(target: policy.targets[0], dryRun: false))
        #expect(full.interruptedBy == nil && full.errors.isEmpty, "\(full.errors)")
        #expect(full.removed.count == 2)
        #expect(try store.list(prefix: "manifests/t/").count == 1)
        #expect(try store.list(prefix: "data/t/").count == 1)
    }

    /// Target `t` keeping its last backup, with backups of 3, 2 and 1 days ago in its local repository.
    static func threeDailyBackups() throws -> (scratch: ScratchRepository, store: LocalDirectoryStore) {
        let scratch = try ScratchRepository(script: "echo hello", retention: "{keep_last: 1}")
        let store = scratch.store()
        for daysAgo in [3.0, 2, 1] { try writeBackup(of: "t", startedAt: Date().addingTimeInterval(-daysAgo * 86_400), in: store) }
        return (scratch, store)
    }

    /// A committed backup as the repository holds it: one data object and its manifest.
    static func writeBackup(of target: String, startedAt: Date, in store: LocalDirectoryStore) throws {
        let id = BackupID(startedAt: startedAt)
        let key = RepositoryLayout.dataKey(target: target, backup: id, object: "stdout")
        try store.put(key, bytes: Array("sealed bytes".utf8))
        let manifest = BackupManifest(
            backupID: id.rawValue, target: target, kind: "command", tool: ToolInfo(version: "test"),
            startedAt: startedAt, finishedAt: startedAt.addingTimeInterval(5),
            consistentPoint: ConsistentPoint(time: startedAt, precision: "at-or-after"),
            compression: CompressionInfo(level: 3),
            encryption: EncryptionInfo(chunkSize: 1 << 20, dataKey: WrappedDataKey(
                scheme: .symmetric, keyID: "0123456789abcdef", ephemeralPublicKey: nil, nonce: "AAAAAAAAAAAAAAAA", ciphertext: "AAAA")),
            objects: [StoredObject(name: "stdout", key: key, rawSize: 6, storedSize: 12, sha256: String(repeating: "0", count: 64))],
            source: SourceFacts(program: "echo"), regions: ["local"], status: .complete)
        try store.put(RepositoryLayout.manifestKey(target: target, backup: id), bytes: try manifest.encoded())
    }
}
