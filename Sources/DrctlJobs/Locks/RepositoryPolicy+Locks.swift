import DrctlPolicy

extension RepositoryPolicy {
    /// The policy's `repository.lock_lifetime`, in the seconds `HeldLock.take` counts.
    var lockLifetimeSeconds: Double { Double(lockLifetime.components.seconds) }
}
