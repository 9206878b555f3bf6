import Foundation
import Logging
import Synchronization
import Testing
@testable import DrctlJobs
import DrctlPolicy
@testable import DrctlStorage

/// Prune sweeps leftovers only while the target's lock is still its own: the objects of a backup
/// without a manifest look just like those of a backup still running. A prune whose lock another
/// run took over while it removed backups leaves them, and says why.
@Suite struct PruneLockLossTests {
    @Test func aPruneThatLostItsLockLeavesTheLeftovers() async throws {
        let (scratch, store) = try PruneInterruptionTests.threeDailyBackups()
        let policy = scratch.policy
        // Data of a backup with no manifest, four days old: a leftover by every other measure.
        let leftover = RepositoryLayout.dataKey(target: "t", backup: BackupID(startedAt: Date().addingTimeInterval(-4 * 86_400)),
                                                object: "stdout")
        try store.put(leftover, bytes: Array("left by a crashed backup".utf8))

        let takeover = TakeoverStore(store, target: "t")
        let runner = JobRunner(JobContext(policy: policy, logger: Logger(label: "test")))
        var job = PruneJob(target: policy.targets[0], dryRun: false)
        job.repository = Repository(regions: [Region(name: "local", store: takeover)])
        let lost = try await runner.run(job)
        #expect(takeover.tookOver, "the lock was taken over while prune listed the data")
        #expect(lost.removed.count == 2, "retention was applied before the sweep")
        #expect(lost.leftovers.isEmpty)
        #expect(lost.errors.contains { $0.contains("lost the lock") && $0.contains("leftovers not swept") }, "\(lost.errors)")
        #expect(try store.stat(leftover) != nil, "the leftover is still there")

        // Once the other run has released the lock, the same prune sweeps it: the checks above
        // are about the lock, not about a leftover prune would never have swept.
        try takeover.releaseTheOtherRun()
        let swept = try await runner.run(PruneJob(target: policy.targets[0], dryRun: false))
        #expect(swept.errors.isEmpty, "\(swept.errors)")
        #expect(swept.leftovers.map(\.key) == [leftover])
        #expect(try store.stat(leftover) == nil)
        withExtendedLifetime(scratch) {}
    }
}

/// A real directory store that, the first time the data is listed (after prune removed the
/// manifests, before it removes data and sweeps), writes the next lock generation as another
/// run that took the lock over would.
private final class TakeoverStore: ObjectStore, Sendable {
    private let store: LocalDirectoryStore
    private let chain: LockChain
    private let other = LockOwner(host: "elsewhere", pid: 42, runID: "20991231T000000.000Z-000000", operation: "backup")
    private let done = Mutex(false)

    init(_ store: LocalDirectoryStore, target: String) {
        self.store = store
        chain = LockChain(region: Region(name: "local", store: store), target: target)
    }

    var tookOver: Bool { done.withLock { $0 } }

    func releaseTheOtherRun() throws {
        guard let newest = try chain.newest() else { return }
        try chain.write(.released, generation: newest.generation + 1, owner: other, acquiredAt: newest.record.acquiredAt,
                        now: Date(), ttl: 0)
    }

    var location: String { store.location }
    func create(_ key: String) throws -> ObjectWriter { try store.create(key) }
    func open(_ key: String) throws -> ObjectReader { try store.open(key) }
    func stat(_ key: String) throws -> ObjectInfo? { try store.stat(key) }
    func delete(_ key: String) throws { try store.delete(key) }
    func delete(keys: [String]) throws { try store.delete(keys: keys) }

    func list(prefix: String) throws -> [ObjectInfo] {
        if prefix.hasPrefix("data/"), !tookOver, let newest = try chain.newest() {
            try chain.write(.held, generation: newest.generation + 1, owner: other, acquiredAt: Date(), now: Date(), ttl: 600)
            done.withLock { $0 = true }
        }
        return try store.list(prefix: prefix)
    }
}
