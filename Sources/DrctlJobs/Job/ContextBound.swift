import Logging
import DrctlPolicy

/// A job's steps bound to its run's context: they read the policy, logger, interruption and
/// progress as they did when each job held its own copies.
protocol ContextBound {
    var context: JobContext { get }
}

extension ContextBound {
    var policy: Policy { context.policy }
    var logger: Logger { context.logger }
    var interruption: Interruption { context.interruption }
    var progress: ProgressObserver? { context.progress }
}
