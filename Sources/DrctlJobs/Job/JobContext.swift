import Logging
import DrctlPolicy

/// What every job of one invocation shares: the policy, the keys, where its log lines go, the
/// signal that stops it, and who watches its progress.
public struct JobContext: Sendable {
    public let policy: Policy
    /// Given by the caller, or nil: loaded from the policy when a job asks (`keys`).
    private let loadedKeys: Result<KeyRing, Error>?
    public let logger: Logger
    /// Lets a signal handler stop the pipeline that is running (routed by the CLI and the agent).
    public let interruption: Interruption
    /// A terminal's progress line; nil under the agent and in nested jobs.
    public let progress: ProgressObserver?

    /// - Parameter keys: the keys, or why the caller could not load them (a backup or a drill
    ///   then fails at its start, recorded like any other failure); nil: the policy's
    ///   `encryption:` keys, loaded only by a job that needs them (`check` and `list` never do,
    ///   and run on hosts without them).
    public init(policy: Policy, keys: Result<KeyRing, Error>? = nil, logger: Logger,
                interruption: Interruption = Interruption(), progress: ProgressObserver? = nil) {
        self.policy = policy
        self.loadedKeys = keys
        self.logger = logger
        self.interruption = interruption
        self.progress = progress
    }

    /// The keys, or why they cannot be had.
    public var keys: Result<KeyRing, Error> {
        loadedKeys ?? Result { try KeyRing(policy: policy.repository.encryption) }
    }

    /// The context of a job run inside another (a drill's restore): its log lines carry the
    /// outer run's metadata, and it draws no progress line of its own.
    public func nested(logger: Logger) -> JobContext {
        JobContext(policy: policy, keys: loadedKeys, logger: logger, interruption: interruption, progress: nil)
    }
}
