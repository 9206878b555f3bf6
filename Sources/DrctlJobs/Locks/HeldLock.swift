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

    /// How long a lock generation is valid unless renewed. A crashed holder blocks its target
    /// for at most this long.
    public static let lifetime: TimeInterval = LockRecord.maximumLifetime

    /// Takes `target`'s lock in `regions` (at least `required` of them), or throws
    /// `TargetLockedError` naming the holder.
    public static func take(target: String, operation: String, runID: String, regions: [Region], required: Int,
                            logger: Logger) throws -> HeldLock {
        let owner = LockOwner(host: hostName(), pid: getpid(), runID: runID, operation: operation)
        let lock = try TargetLock.acquire(target: target, owner: owner, regions: regions, required: required, ttl: lifetime)
        for (region, previous) in lock.takenOver {
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
