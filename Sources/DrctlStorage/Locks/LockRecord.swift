import Foundation

/// One link of a target's lock chain, `locks/<target>/<generation>.json` (docs/FORMAT.md,
/// "Lock"). Write-once like everything else: taking, renewing and releasing the lock each write
/// the next generation, and whoever creates that object first wins (link(2) on a directory,
/// `If-None-Match: *` on S3). The newest generation is the lock's state.
public struct LockRecord: Codable, Sendable, Equatable {
    public static let formatName = "drctl-lock"
    /// The highest version this drctl reads; it writes 1 in a version 1 repository, else 2.
    public static let currentVersion = 2

    public var format: String = LockRecord.formatName
    /// 1, or 2 when the generation carries its `authentication` (`SignedDocuments.stored`).
    public var version: Int = 1
    public var target: String
    public var generation: Int
    public var state: LockState
    public var owner: LockOwner
    /// When the holder took the lock (kept across renewals).
    public var acquiredAt: Date
    /// When this generation was written.
    public var writtenAt: Date
    /// After this moment a `held` lock may be taken over (the holder renews well before).
    public var expiresAt: Date
    /// Version 2: the writer's signature and signer, as decoded; readers check the stored bytes.
    public var authentication: AuthenticationField?
    /// Why the reader did not believe this generation's bytes (`LockChain.read`: a bad or
    /// unknown signature, or a version 1 generation in a version 2 repository); not stored.
    public var authenticationFailure: SealFailure?

    public init(target: String, generation: Int, state: LockState, owner: LockOwner, acquiredAt: Date,
                writtenAt: Date, expiresAt: Date) {
        self.target = target
        self.generation = generation
        self.state = state
        self.owner = owner
        self.acquiredAt = acquiredAt
        self.writtenAt = writtenAt
        self.expiresAt = expiresAt
    }

    /// The longest a generation is ever valid: drctl writes `expires_at` this long after
    /// `written_at` (`HeldLock.lifetime`), and renews every third of it.
    public static let maximumLifetime: TimeInterval = 600

    /// Whether someone holds the lock at `now`: `held`, not expired, and not refused.
    public func isHeld(at now: Date) -> Bool { state == .held && expiresAt > now && refusal(at: now) == nil }

    /// Why a generation is not honoured (docs/FORMAT.md, "Readers' rules", "Lock"), or nil: one
    /// that fails authentication, or a `held` one written in the future, or valid for longer
    /// than `maximumLifetime` after it was written, is no lock drctl wrote. Planted, it would
    /// block the target's backups until its expiry (2099), or (`released`) hand over a lock its
    /// run still holds elsewhere; instead it counts as expired, so the next run takes it over
    /// with a warning.
    public func refusal(at now: Date) -> String? {
        if let authenticationFailure { return "\(authenticationFailure)" }
        guard state == .held else { return nil }
        if let future = ReaderRules.futureTime([("written_at", writtenAt)], now: now) { return future }
        // Up to a second more: both times are stored to the millisecond, each rounded.
        if expiresAt.timeIntervalSince(writtenAt) > Self.maximumLifetime + 1 {
            return "its expires_at \(Timestamp.format(expiresAt)) is more than the longest lifetime of a lock "
                + "(\(Int(Self.maximumLifetime)) s) after its written_at \(Timestamp.format(writtenAt))"
        }
        return nil
    }

    enum CodingKeys: String, CodingKey {
        case format, version, target, generation, state, owner, authentication
        case acquiredAt = "acquired_at", writtenAt = "written_at", expiresAt = "expires_at"
    }
}

public enum LockState: String, Codable, Sendable {
    case held, released
}

/// Who holds a lock: enough for an operator to find the process.
public struct LockOwner: Codable, Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var pid: Int32
    /// The backup id (or prune run id) of the run holding it.
    public var runID: String
    /// `backup` or `prune`.
    public var operation: String
    /// When the owner process started, in the kernel's clock ticks since boot (field 22 of
    /// `/proc/<pid>/stat`), so that a pid reused by another process is not taken for the owner.
    /// Absent in locks written before drctl recorded it (docs/FORMAT.md, "Lock").
    public var processStart: UInt64?

    public init(host: String, pid: Int32, runID: String, operation: String, processStart: UInt64? = nil) {
        self.host = host
        self.pid = pid
        self.runID = runID
        self.operation = operation
        self.processStart = processStart
    }

    public var description: String { "\(operation) \(runID) on host \(host) (pid \(pid))" }

    enum CodingKeys: String, CodingKey {
        case host, pid, operation
        case runID = "run_id"
        case processStart = "process_start"
    }
}

extension RepositoryLayout {
    public static func locksPrefix(target: String) -> String { "locks/\(target)/" }

    /// Generations are zero-padded to 12 digits so keys sort in generation order.
    public static func lockKey(target: String, generation: Int) -> String {
        "locks/\(target)/" + lockID(generation: generation) + ".json"
    }

    /// A generation's 12 digits: its key's file name, and the id its version 2 signature is
    /// for (docs/FORMAT.md, "Lock").
    public static func lockID(generation: Int) -> String {
        let digits = String(generation)
        return String(repeating: "0", count: max(0, 12 - digits.count)) + digits
    }

    /// The generation a lock key names, or nil for a key that is not a lock.
    static func lockGeneration(_ key: String, target: String) -> Int? {
        let prefix = locksPrefix(target: target)
        guard key.hasPrefix(prefix), key.hasSuffix(".json") else { return nil }
        let digits = key.dropFirst(prefix.count).dropLast(5)
        guard digits.count == 12, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        return Int(digits)
    }
}

/// A run could not take a target's lock because another run holds it.
public struct TargetLockedError: Error, CustomStringConvertible {
    public let target: String
    public let holder: LockRecord
    public let region: String

    public init(target: String, holder: LockRecord, region: String) {
        self.target = target
        self.holder = holder
        self.region = region
    }

    public var description: String {
        "target '\(target)' is locked by \(holder.owner) since \(Timestamp.format(holder.acquiredAt)), "
            + "until \(Timestamp.format(holder.expiresAt)) unless renewed (lock in region '\(region)'); "
            + "try again when that run has ended"
    }
}

extension LockRecord: SignableDocument {}
