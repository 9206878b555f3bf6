import Foundation
import Glibc
import Logging
import DrctlStorage

/// A target's repository lock as a job holds it: taken (an expired holder taken over gets a log
/// line), renewed on a dedicated thread every third of its lifetime so a long backup keeps it,
/// confirmed before the job commits anything, and released when the job ends.
///
/// A run that could not renew in time (its host paused, its process stopped) may find the lock
/// taken over by another run. From then on the lock is lost in that region: `confirm()` names
/// it, and the job must not commit there.
public final class HeldLock: Sendable {
    public let lock: TargetLock
    private let stop = DispatchSemaphore(value: 0)
    private let logger: Logger

    /// How long a lock generation is valid unless renewed, by default (the policy's
    /// `repository.lock_lifetime`). A holder that crashed on another host blocks its target for
    /// at most this long; one of this host is taken over at once (`ownerGone`).
    public static let lifetime: TimeInterval = LockRecord.maximumLifetime

    /// Takes `target`'s lock in `regions` (at least `required` of them), or throws
    /// `TargetLockedError` naming the holder. `signing`: the repository's version (version 2
    /// signs every generation and does not honour one that fails authentication).
    public static func take(target: String, operation: String, runID: String, regions: [Region], required: Int,
                            lifetime: TimeInterval = HeldLock.lifetime, signing: SignedDocuments, logger: Logger) throws -> HeldLock {
        let owner = LockOwner(host: hostName(), pid: getpid(), runID: runID, operation: operation,
                              processStart: ProcessIdentity.of(getpid())?.startTime)
        let lock = try TargetLock.acquire(target: target, owner: owner, regions: regions, required: required, ttl: lifetime,
                                          signing: signing, ownerGone: ownerGone)
        for (region, previous) in lock.takenOver {
            if previous.isHeld(at: lock.acquiredAt) {
                logger.warning(ownerGone(previous.owner).map { _ in "took over the lock of a run that is no longer alive" }
                                   ?? "took over a lock its run released in another region", metadata: [
                    "region": "\(region)", "previous_holder": "\(previous.owner)",
                    "reason": "\(ownerGone(previous.owner) ?? "the same run released it elsewhere; it dropped this region")",
                ])
                continue
            }
            if let refusal = previous.refusal(at: lock.acquiredAt) {
                logger.warning("took over a lock that is not honoured", metadata: [
                    "region": "\(region)", "lock": "\(RepositoryLayout.lockKey(target: target, generation: previous.generation))",
                    "previous_holder": "\(previous.owner)", "reason": "\(refusal)",
                ])
                continue
            }
            logger.warning("took over an expired lock", metadata: [
                "region": "\(region)", "previous_holder": "\(previous.owner)",
                "expired_at": "\(Timestamp.format(previous.expiresAt))",
            ])
        }
        for (region, reason) in lock.skipped {
            logger.warning("region not locked: unreachable", metadata: ["region": "\(region)", "error": "\(reason)"])
        }
        return HeldLock(lock: lock, logger: logger)
    }

    private init(lock: TargetLock, logger: Logger) {
        self.lock = lock
        self.logger = logger
        let thread = Thread { [stop] in
            while stop.wait(timeout: .now() + lock.ttl / 3) == .timedOut {
                HeldLock.log(lock.renew(), of: lock, logger)
            }
        }
        thread.name = "drctl-lock-renewal"
        thread.start()
    }

    /// Renews the lock now and returns the regions where it is no longer ours (each with why).
    /// Called just before a commit: the renewal thread may not have run for a long time if the
    /// process was stopped.
    public func confirm() -> [(region: String, reason: String)] {
        HeldLock.log(lock.renew(), of: lock, logger)
        return lock.lost
    }

    private static func log(_ failures: [(region: String, error: Error)], of lock: TargetLock, _ logger: Logger) {
        let lost = Set(lock.lost.map(\.region))
        for (region, error) in failures {
            if lost.contains(region) {
                logger.error("lost the target lock: another run took it over", metadata: ["region": "\(region)", "error": "\(error)"])
            } else {
                logger.error("could not renew the target lock", metadata: ["region": "\(region)", "error": "\(error)"])
            }
        }
    }

    /// Stops the renewals and releases the lock (failures are logged: the lock then expires).
    public func release() {
        stop.signal()
        for (region, error) in lock.release() {
            logger.warning("could not release the target lock; it expires by itself",
                           metadata: ["region": "\(region)", "error": "\(error)"])
        }
    }

    /// Why the owner of a lock is known to be gone, or nil: it ran on this host, and its pid is
    /// not running, or runs another process (a start time other than the one recorded). A lock
    /// without a start time whose pid runs is taken as alive; another host's owner is never
    /// judged from here.
    static func ownerGone(_ owner: LockOwner) -> String? {
        guard owner.host == hostName(), owner.pid > 0 else { return nil }
        if let recorded = owner.processStart {
            if ProcessIdentity(pid: owner.pid, startTime: recorded).isAlive { return nil }
            return ProcessIdentity.of(owner.pid) == nil ? "pid \(owner.pid) of this host is no longer running"
                : "pid \(owner.pid) of this host is no longer the owner (another process, or ended)"
        }
        // An older lock: only a pid that is gone tells (a running one may be the owner; this
        // process's own pid is, for a lock of the agent's other run).
        guard owner.pid != getpid(), ProcessIdentity.of(owner.pid) == nil else { return nil }
        return "pid \(owner.pid) of this host is no longer running"
    }

    /// Stops renewing and releasing the lock in a region dropped from the run (`TargetLock.abandon`).
    public func abandon(_ region: String) {
        lock.abandon(region)
    }

    private static func hostName() -> String {
        let name = ProcessInfo.processInfo.hostName
        return name.isEmpty ? "unknown" : name
    }
}

/// The lock of a target was lost in a region before the run could commit there: another run
/// took it over, so the region gets no manifest from this run.
public struct LockLostError: Error, CustomStringConvertible {
    public let target: String
    public let region: String
    public let reason: String

    public var description: String {
        "lost the lock of target '\(target)' in region '\(region)' (\(reason)): "
            + "this run did not renew it in time (was the process stopped or the host paused?)"
    }
}
