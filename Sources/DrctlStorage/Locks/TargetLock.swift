import Foundation
import Synchronization

/// A target's lock in the repository, held by one backup or prune at a time, across hosts.
///
/// The lock is a chain of write-once objects (`LockRecord`): to take, renew or release it a run
/// writes the generation after the newest, and the store lets only the first writer of a key
/// succeed. A newest generation that is `held` and not expired means "locked"; one that is
/// expired is taken over (reported in `takenOver`, for a log line). Only the newest two
/// generations are kept; a writer that raced with that clean-up and landed below the newest
/// generation sees it on re-reading, withdraws its object and tries again.
///
/// With several regions the lock is taken in each reachable region in policy order, and at least
/// `required` must succeed. Every run goes in the same order, so the first region two runs both
/// reach decides between them, and neither waits for the other.
public final class TargetLock: Sendable {
    public let target: String
    public let owner: LockOwner
    /// How long a generation stays valid; the holder renews every third of it.
    public let ttl: TimeInterval
    public let acquiredAt: Date
    /// Locks this run took over: the region and the abandoned generation (expired, not honoured,
    /// or still valid but over: see `acquire`'s `isOver`).
    public let takenOver: [(region: String, previous: LockRecord)]
    /// Regions where the lock could not be taken because they could not be read or written.
    public let skipped: [(region: String, reason: String)]
    private let clock: @Sendable () -> Date
    private let held: Mutex<Holding>

    struct HeldLink: Sendable {
        let chain: LockChain
        var generation: Int
    }

    private struct Holding: Sendable {
        var links: [HeldLink]
        /// Regions where another run took the lock over (this one renewed too late), and why.
        var lost: [(region: String, reason: String)] = []
    }

    private init(target: String, owner: LockOwner, ttl: TimeInterval, acquiredAt: Date,
                 takenOver: [(region: String, previous: LockRecord)], skipped: [(region: String, reason: String)],
                 clock: @escaping @Sendable () -> Date, held: [HeldLink]) {
        self.target = target
        self.owner = owner
        self.ttl = ttl
        self.acquiredAt = acquiredAt
        self.takenOver = takenOver
        self.skipped = skipped
        self.clock = clock
        self.held = Mutex(Holding(links: held))
    }

    /// Regions where the lock is no longer ours: another run took it over after this one failed
    /// to renew it in time, and may be working on the target there (a prune removing this run's
    /// objects as leftovers). Nothing may be committed into them.
    public var lost: [(region: String, reason: String)] { held.withLock { $0.lost } }

    /// Takes the lock or throws `TargetLockedError` (someone holds it), or `LockUnavailable`
    /// naming each region's failure when fewer than `required` regions could be locked.
    ///
    /// A lock that is held and valid is still taken over when its run is known to be over:
    /// `ownerGone` says so for its owner (a process of this host that is no longer running), or
    /// the same run released the lock in another region (it was dropped from a region that
    /// froze, and could not release it there).
    ///
    /// `signing` says how generations are signed and checked: version 1 (nothing) or version 2
    /// (every generation written is signed, and one that fails authentication is not honoured).
    public static func acquire(target: String, owner: LockOwner, regions: [Region], required: Int = 1,
                               ttl: TimeInterval = LockRecord.maximumLifetime, signing: SignedDocuments = .versionOne,
                               clock: @escaping @Sendable () -> Date = { Date() },
                               ownerGone: (LockOwner) -> String? = { _ in nil }) throws -> TargetLock {
        let now = clock()
        func isOver(_ holder: LockRecord, in region: Region) -> Bool {
            ownerGone(holder.owner) != nil
                || releasedElsewhere(holder, target: target, regions: regions, except: region, signing: signing)
        }
        var held: [HeldLink] = []
        var takenOver: [(region: String, previous: LockRecord)] = []
        var skipped: [(region: String, error: Error)] = []
        func undo() {
            for link in held { try? link.chain.write(.released, generation: link.generation + 1, owner: owner, acquiredAt: now, now: now, ttl: ttl) }
        }
        for region in regions {
            let chain = LockChain(region: region, target: target, signing: signing)
            do {
                let (generation, previous) = try chain.take(owner: owner, now: now, ttl: ttl) { isOver($0, in: region) }
                held.append(HeldLink(chain: chain, generation: generation))
                if let previous { takenOver.append((region.name, previous)) }
            } catch let error as TargetLockedError {
                undo()
                throw error
            } catch {
                skipped.append((region.name, error))
            }
        }
        guard held.count >= max(1, min(required, regions.count)) else {
            undo()
            if skipped.count == 1 { throw skipped[0].error }   // its own message names region and cause
            throw LockUnavailable(target: target, locked: held.count, required: max(1, min(required, regions.count)),
                                  failures: skipped.map { ($0.region, "\($0.error)") })
        }
        return TargetLock(target: target, owner: owner, ttl: ttl, acquiredAt: now, takenOver: takenOver,
                          skipped: skipped.map { ($0.region, "\($0.error)") }, clock: clock, held: held)
    }

    /// Stops holding the lock in `region` (dropped from the run: it froze or failed): it is
    /// neither renewed nor released there, so nothing waits on it again. What it holds there is
    /// taken over by the next run, which finds it released in the other regions (`acquire`).
    public func abandon(_ region: String) {
        held.withLock { $0.links.removeAll { $0.chain.region.name == region } }
    }

    /// Writes the next `held` generation in every region, pushing the expiry out by `ttl`.
    /// Returns the regions where that failed; `TargetLockedError` there means the lock was
    /// taken over (this run was too slow to renew) and that region is no longer ours.
    @discardableResult
    public func renew() -> [(region: String, error: Error)] {
        advance(to: .held)
    }

    /// Writes a `released` generation in every region that is still ours. Idempotent.
    @discardableResult
    public func release() -> [(region: String, error: Error)] {
        advance(to: .released)
    }

    private func advance(to state: LockState) -> [(region: String, error: Error)] {
        let now = clock()
        return held.withLock { holding in
            var failures: [(region: String, error: Error)] = []
            var kept: [HeldLink] = []
            for var link in holding.links {
                let region = link.chain.region.name
                do {
                    try link.chain.write(state, generation: link.generation + 1, owner: owner, acquiredAt: acquiredAt,
                                         now: now, ttl: ttl)
                    link.generation += 1
                    var present: [Int]?
                    if state == .held {
                        do {
                            present = try link.chain.confirm(link.generation)
                        } catch StorageError.alreadyExists(let key, let location) {
                            // The run that took the lock over renewed it since and cleaned up.
                            throw StorageError.alreadyExists(key: key, location: location)
                        } catch {
                            present = nil   // a listing that fails leaves the renewal standing: the write landed
                        }
                    }
                    link.chain.cleanUp(below: link.generation - 1, among: present)
                    if state == .held { kept.append(link) }
                } catch StorageError.alreadyExists {
                    let holder = (try? link.chain.newest())?.record
                    let error: Error = holder.map { TargetLockedError(target: target, holder: $0, region: region) }
                        ?? StorageError.alreadyExists(key: link.chain.key(link.generation + 1), location: link.chain.region.store.location)
                    failures.append((region, error))
                    holding.lost.append((region, holder.map { "taken over by \($0.owner)" } ?? "taken over by another run"))
                } catch {
                    failures.append((region, error))
                    if state == .held { kept.append(link) }
                }
            }
            holding.links = kept
            return failures
        }
    }
}

extension TargetLock {
    /// Whether the run holding `holder` released the lock in a region other than `except`: its
    /// newest generation there is `released` by the same run id, and authenticated (a planted
    /// `released` generation must not hand over a lock its run still holds).
    static func releasedElsewhere(_ holder: LockRecord, target: String, regions: [Region], except: Region,
                                  signing: SignedDocuments) -> Bool {
        regions.contains { other in
            guard other.name != except.name,
                  let newest = try? LockChain(region: other, target: target, signing: signing).newest() else { return false }
            return newest.record.state == .released && newest.record.authenticationFailure == nil
                && newest.record.owner.runID == holder.owner.runID && newest.record.owner.host == holder.owner.host
        }
    }

    /// The newest generation of `target`'s lock in `region` and its key, or nil when there is
    /// none: for `check`, which names a lock that is not honoured.
    public static func newest(target: String, in region: Region, signing: SignedDocuments) throws -> (key: String, record: LockRecord)? {
        let chain = LockChain(region: region, target: target, signing: signing)
        return try chain.newest().map { (chain.key($0.generation), $0.record) }
    }
}

/// The lock objects of one target in one region. Its requests are bounded by the region's read
/// deadline (not latching): taking, renewing or releasing a lock never waits long on a frozen
/// region, and a region that hung for a moment still gets its lock renewed.
struct LockChain: Sendable {
    let region: Region
    let target: String
    /// Version 1 or 2: how generations are written and checked.
    let signing: SignedDocuments
    private let store: ObjectStore

    init(region: Region, target: String, signing: SignedDocuments = .versionOne) {
        self.region = region
        self.target = target
        self.signing = signing
        self.store = region.store.bounded(by: region.deadline(latching: false))
    }

    func key(_ generation: Int) -> String { RepositoryLayout.lockKey(target: target, generation: generation) }

    /// Every generation present, oldest first.
    func generations() throws -> [Int] {
        try store.list(prefix: RepositoryLayout.locksPrefix(target: target))
            .compactMap { RepositoryLayout.lockGeneration($0.key, target: target) }
            .sorted()
    }

    func newest() throws -> (generation: Int, record: LockRecord)? {
        guard let generation = try generations().last else { return nil }
        return (generation, try read(generation))
    }

    /// The generation as stored. One whose authentication fails is returned with its
    /// `authenticationFailure`: it is not honoured (`LockRecord.refusal`), and so taken over.
    func read(_ generation: Int) throws -> LockRecord {
        let key = key(generation)
        let bytes = try store.get(key, limit: 1 << 20)
        var record: LockRecord
        do {
            record = try ManifestCoding.decoder.decode(LockRecord.self, from: Data(bytes))
        } catch {
            throw RepositoryError.unreadable(what: key, region: region.name,
                                             reason: "not a valid lock (\(error)); if no drctl run holds it, delete it")
        }
        guard record.format == LockRecord.formatName, record.target == target, record.generation == generation else {
            throw RepositoryError.unreadable(what: key, region: region.name, reason: "not a lock of target '\(target)' generation \(generation)")
        }
        guard record.version <= LockRecord.currentVersion else {
            throw RepositoryError.newerFormat(what: key, version: record.version, supported: LockRecord.currentVersion, region: region.name)
        }
        record.authenticationFailure = signing.failure(of: record, stored: bytes, kind: .lock, target: target,
                                                       id: RepositoryLayout.lockID(generation: generation), writtenAt: record.writtenAt)
        return record
    }

    /// Writes a generation: version 2 and signed for its target and generation in a version 2
    /// repository (a run without a signing key cannot lock there: the error names the key).
    func write(_ state: LockState, generation: Int, owner: LockOwner, acquiredAt: Date, now: Date, ttl: TimeInterval) throws {
        let record = LockRecord(target: target, generation: generation, state: state, owner: owner, acquiredAt: acquiredAt,
                                writtenAt: now, expiresAt: now.addingTimeInterval(ttl))
        try store.put(key(generation), bytes: signing.stored(record, kind: .lock, target: target,
                                                             id: RepositoryLayout.lockID(generation: generation)))
    }

    /// Takes the lock: returns our generation and the lock taken over, if any (expired, or held
    /// by a run that `isOver`).
    func take(owner: LockOwner, now: Date, ttl: TimeInterval, isOver: (LockRecord) -> Bool = { _ in false }) throws -> (Int, LockRecord?) {
        for _ in 0..<8 {
            let newest = try newest()
            if let newest, newest.record.isHeld(at: now), !isOver(newest.record) {
                throw TargetLockedError(target: target, holder: newest.record, region: region.name)
            }
            let generation = (newest?.generation ?? 0) + 1
            let present: [Int]
            do {
                try write(.held, generation: generation, owner: owner, acquiredAt: now, now: now, ttl: ttl)
                present = try confirm(generation)
            } catch StorageError.alreadyExists {
                continue   // another run wrote this generation first, or a newer one: look again
            }
            cleanUp(below: generation - 1, among: present)
            let abandoned = newest.flatMap { $0.record.state == .held ? $0.record : nil }
            return (generation, abandoned)
        }
        throw StorageError.io(operation: "lock", key: RepositoryLayout.locksPrefix(target: target), location: store.location,
                              reason: "the lock kept changing under us (8 attempts)")
    }

    /// After writing `generation`: the generations present. When a newer one exists, the slot
    /// was free only because a clean-up had removed it (the newer generation's holder renewed
    /// and cleaned up meanwhile), so the write is no lock: it is withdrawn, and this throws
    /// `alreadyExists` for the newer generation, as a write into a taken slot does.
    func confirm(_ generation: Int) throws -> [Int] {
        let present = try generations()
        guard let top = present.last, top > generation else { return present }
        try? store.delete(key(generation))
        throw StorageError.alreadyExists(key: key(top), location: store.location)
    }

    /// Deletes the generations below `generation` (best effort: they are history only), from
    /// `present` when the caller has just listed them.
    func cleanUp(below generation: Int, among present: [Int]? = nil) {
        guard let all = present ?? (try? generations()) else { return }
        for old in all where old < generation { try? store.delete(key(old)) }
    }
}

/// Fewer regions than required could be locked, each for its own reason (a wrong secret, a
/// frozen endpoint): the message names every one, so the last line of a failed run says why.
public struct LockUnavailable: Error, CustomStringConvertible {
    public let target: String
    public let locked: Int
    public let required: Int
    public let failures: [(region: String, reason: String)]

    public var description: String {
        let causes = failures.isEmpty ? "no region to hold it"
            : failures.map { "region '\($0.region)': \($0.reason)" }.joined(separator: "; ")
        return "cannot lock target '\(target)' in \(required) region(s) (locked \(locked)): \(causes)"
    }
}
