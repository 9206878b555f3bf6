import Foundation
import Synchronization
import Testing
import DrctlCrypto
@testable import DrctlStorage

/// A clock the test moves by hand.
private final class TestClock: Sendable {
    private let now: Mutex<Date>
    init(_ start: Date) { now = Mutex(start) }
    func advance(_ seconds: TimeInterval) { now.withLock { $0 = $0.addingTimeInterval(seconds) } }
    var read: @Sendable () -> Date { { [self] in now.withLock { $0 } } }
}

private func owner(_ run: String, host: String = "host-a") -> LockOwner {
    LockOwner(host: host, pid: 4242, runID: run, operation: "backup")
}

/// How a version 2 repository signs and checks its locks: a repository id, a signing key
/// and the writers readers accept (the signing key's own).
private func versionTwo(_ key: SigningKey = .generate(), writers: [WriterKey]? = nil) -> SignedDocuments {
    SignedDocuments(identity: RepositoryIdentity(repositoryID: "00112233445566778899aabbccddeeff", versionOneBefore: nil),
                    signingKey: .success(key), writers: .success(writers ?? [key.writerKey]))
}

/// Runs the lock's behaviour against one kind of store, in a version 1 or 2 repository.
private func lockChainBehaves(_ region: Region, signing: SignedDocuments = .versionOne) throws {
    let clock = TestClock(Date(timeIntervalSince1970: 1_800_000_000))
    func acquire(target: String, owner: LockOwner, regions: [Region], ttl: TimeInterval, clock: @escaping @Sendable () -> Date) throws -> TargetLock {
        try TargetLock.acquire(target: target, owner: owner, regions: regions, ttl: ttl, signing: signing, clock: clock)
    }
    let first = try acquire(target: "db", owner: owner("run-1"), regions: [region], ttl: 600, clock: clock.read)
    #expect(first.takenOver.isEmpty)

    // Held: a second run is refused, naming the holder.
    let refused = #expect(throws: TargetLockedError.self) {
        try acquire(target: "db", owner: owner("run-2", host: "host-b"), regions: [region], ttl: 600, clock: clock.read)
    }
    #expect(refused?.holder.owner == owner("run-1"))
    #expect(refused?.description.contains("target 'db' is locked by backup run-1 on host host-a (pid 4242)") == true)

    // Renewed before expiry: still held after the first expiry time.
    clock.advance(500)
    #expect(first.renew().isEmpty)
    clock.advance(300)
    #expect(throws: TargetLockedError.self) {
        try acquire(target: "db", owner: owner("run-2"), regions: [region], ttl: 600, clock: clock.read)
    }

    // Released: the next run takes it at once; the chain keeps only two generations.
    #expect(first.release().isEmpty)
    let second = try acquire(target: "db", owner: owner("run-3"), regions: [region], ttl: 600, clock: clock.read)
    #expect(second.takenOver.isEmpty)
    let keys = try region.store.list(prefix: "locks/db/").map(\.key)
    #expect(keys == ["locks/db/000000000003.json", "locks/db/000000000004.json"])
    let newest = try ManifestCoding.decoder.decode(LockRecord.self, from: Data(region.store.get(keys[1])))
    #expect(newest.state == .held && newest.owner.runID == "run-3" && newest.generation == 4)
    #expect(newest.version == (signing.signs ? 2 : 1) && (newest.authentication != nil) == signing.signs, "\(newest)")

    // Expired (its holder died): taken over, and the abandoned holder is reported for the log.
    clock.advance(601)
    let third = try acquire(target: "db", owner: owner("run-4"), regions: [region], ttl: 600, clock: clock.read)
    #expect(third.takenOver.map(\.previous.owner.runID) == ["run-3"])
    // The old holder, waking up, can neither renew nor release what is no longer its own.
    let lost = second.renew()
    #expect(lost.count == 1 && lost[0].error is TargetLockedError)
    #expect(second.lost.map(\.region) == [region.name])
    #expect(second.lost.first?.reason.contains("run-4") == true, "\(second.lost)")
    #expect(second.renew().isEmpty && second.lost.count == 1)   // lost once, stays lost
    #expect(second.release().isEmpty)   // nothing left to release
    #expect(throws: TargetLockedError.self) {
        try acquire(target: "db", owner: owner("run-5"), regions: [region], ttl: 600, clock: clock.read)
    }
    third.release()
    // Other targets have their own lock.
    _ = try acquire(target: "cache", owner: owner("run-6"), regions: [region], ttl: 600, clock: clock.read)

    // A holder asleep long enough for the run that took over to renew twice and clean up finds
    // its next generation's slot free again: writing it is not renewing, and it is withdrawn.
    let sleeper = try acquire(target: "web", owner: owner("run-7"), regions: [region], ttl: 600, clock: clock.read)
    clock.advance(601)
    let taker = try acquire(target: "web", owner: owner("run-8"), regions: [region], ttl: 600, clock: clock.read)
    #expect(taker.renew().isEmpty && taker.renew().isEmpty)
    let before = try region.store.list(prefix: "locks/web/").map(\.key)
    #expect(before == ["locks/web/000000000003.json", "locks/web/000000000004.json"])
    let renewal = sleeper.renew()
    #expect(renewal.count == 1 && renewal[0].error is TargetLockedError, "\(renewal)")
    #expect(sleeper.lost.first?.reason.contains("run-8") == true, "\(sleeper.lost)")
    #expect(try region.store.list(prefix: "locks/web/").map(\.key) == before)
    taker.release()
}

@Suite struct TargetLockTests {
    @Test func onADirectory() throws {
        let root = NSTemporaryDirectory() + "drctl-lock-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try lockChainBehaves(Region(name: "local", store: LocalDirectoryStore(root: root)))
    }

    @Test func onADirectoryOfAVersionTwoRepository() throws {
        let root = NSTemporaryDirectory() + "drctl-lock-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try lockChainBehaves(Region(name: "local", store: LocalDirectoryStore(root: root)), signing: versionTwo())
    }

    @Test func onS3WithConditionalWrites() throws {
        let moto = try MotoServer()
        try moto.createBucket("locks")
        try lockChainBehaves(Region(name: "s3", store: try moto.store(bucket: "locks", prefix: "repo")))
        try lockChainBehaves(Region(name: "s3", store: try moto.store(bucket: "locks", prefix: "v2")), signing: versionTwo())
    }

    /// Version 2: a held generation is honoured only where it was signed, by a writer the
    /// policy lists. Copied to another target, replayed as a later generation, or signed by
    /// an unknown key, it is taken over (named in `takenOver`, its refusal saying why); so is
    /// an unsigned (version 1) one. A `released` one that fails authentication does not hand
    /// over a lock its run still holds in another region.
    @Test func aGenerationThatFailsAuthenticationIsNotHonoured() throws {
        let root = NSTemporaryDirectory() + "drctl-lock-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = LocalDirectoryStore(root: root)
        let region = Region(name: "local", store: store)
        let key = SigningKey.generate()
        let signing = versionTwo(key)
        let holder = try TargetLock.acquire(target: "db", owner: owner("run-1", host: "host-b"), regions: [region], signing: signing)
        let genuine = try store.get("locks/db/000000000001.json")
        #expect(throws: TargetLockedError.self) {
            try TargetLock.acquire(target: "db", owner: owner("run-2"), regions: [region], signing: signing)
        }
        func takesOver(_ target: String, _ why: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let lock = try TargetLock.acquire(target: target, owner: owner("run-x"), regions: [region], signing: signing)
            let refusal = lock.takenOver.first?.previous.refusal(at: Date())
            #expect(refusal?.contains(why) == true, "\(lock.takenOver)", sourceLocation: sourceLocation)
            lock.release()
        }
        // Moved: the genuine bytes with the other target's name, at the other target's key.
        let moved = String(decoding: genuine, as: UTF8.self).replacingOccurrences(of: "\"target\" : \"db\"", with: "\"target\" : \"web\"")
        try store.put("locks/web/000000000001.json", bytes: Array(moved.utf8))
        try takesOver("web", "tampered")
        // Replayed: a genuine held generation 1 again as generation 2 of its own target.
        _ = try TargetLock.acquire(target: "api", owner: owner("run-6", host: "host-b"), regions: [region], signing: signing)
        let replayed = String(decoding: try store.get("locks/api/000000000001.json"), as: UTF8.self)
            .replacingOccurrences(of: "\"generation\" : 1,", with: "\"generation\" : 2,")
        try store.put("locks/api/000000000002.json", bytes: Array(replayed.utf8))
        try takesOver("api", "tampered")
        // Signed by a key the policy does not list, and not signed at all.
        _ = try TargetLock.acquire(target: "ops", owner: owner("run-3", host: "host-b"), regions: [region], signing: versionTwo())
        try takesOver("ops", "unknown writer")
        _ = try TargetLock.acquire(target: "old", owner: owner("run-4", host: "host-b"), regions: [region])
        try takesOver("old", "version 1 lock")

        // A forged `released` generation of the holder's run in a second region hands nothing over.
        let second = Region(name: "second", store: LocalDirectoryStore(root: root + "-second"))
        defer { try? FileManager.default.removeItem(atPath: root + "-second") }
        let forged = try TargetLock.acquire(target: "db", owner: owner("run-1", host: "host-b"), regions: [second], signing: versionTwo())
        forged.release()
        #expect(throws: TargetLockedError.self) {
            try TargetLock.acquire(target: "db", owner: owner("run-5"), regions: [region, second], signing: signing)
        }
        holder.release()
    }

    /// Many runs at once on one directory: exactly one gets the lock.
    @Test func exactlyOneOfManyConcurrentRunsWins() async throws {
        let root = NSTemporaryDirectory() + "drctl-lock-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let region = Region(name: "local", store: LocalDirectoryStore(root: root))
        let winners = Mutex(0)
        let refusals = Mutex(0)
        let threads = (0..<8).map { index in
            Thread {
                do {
                    _ = try TargetLock.acquire(target: "db", owner: owner("run-\(index)"), regions: [region])
                    winners.withLock { $0 += 1 }
                } catch is TargetLockedError {
                    refusals.withLock { $0 += 1 }
                } catch {}
            }
        }
        threads.forEach { $0.start() }
        #expect(await waitUntil { winners.withLock { $0 } + refusals.withLock { $0 } == 8 })
        #expect(winners.withLock { $0 } == 1)
        #expect(refusals.withLock { $0 } == 7)
    }

    /// Two regions: a run holding the first keeps another out of both; a region that cannot be
    /// reached is skipped while enough remain, and fails the lock when too few do.
    @Test func acrossRegions() throws {
        let root = NSTemporaryDirectory() + "drctl-lock-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let a = Region(name: "a", store: LocalDirectoryStore(root: root + "/a"))
        let b = Region(name: "b", store: LocalDirectoryStore(root: root + "/b"))
        let first = try TargetLock.acquire(target: "db", owner: owner("run-1"), regions: [a, b], required: 2)
        #expect(throws: TargetLockedError.self) {
            try TargetLock.acquire(target: "db", owner: owner("run-2"), regions: [a, b])
        }
        first.release()
        // A region whose directory cannot be created (a file is in the way).
        _ = FileManager.default.createFile(atPath: root + "/broken", contents: Data())
        let broken = Region(name: "broken", store: LocalDirectoryStore(root: root + "/broken"))
        let partial = try TargetLock.acquire(target: "db", owner: owner("run-3"), regions: [broken, a], required: 1)
        #expect(partial.skipped.map(\.region) == ["broken"])
        partial.release()
        #expect(throws: StorageError.self) {
            try TargetLock.acquire(target: "db", owner: owner("run-4"), regions: [broken, a], required: 2)
        }
        // The failed attempt left region a released, so a later run gets it.
        _ = try TargetLock.acquire(target: "db", owner: owner("run-5"), regions: [a])
    }

    @Test func anUnreadableLockIsNamed() throws {
        let root = NSTemporaryDirectory() + "drctl-lock-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = LocalDirectoryStore(root: root)
        try store.put("locks/db/000000000001.json", bytes: Array("not json".utf8))
        let error = #expect(throws: RepositoryError.self) {
            try TargetLock.acquire(target: "db", owner: owner("run-1"), regions: [Region(name: "local", store: store)])
        }
        #expect(error?.description.contains("locks/db/000000000001.json") == true)
    }
}

private func waitUntil(_ condition: () -> Bool) async -> Bool {
    for _ in 0..<200 {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(25))
    }
    return condition()
}
