import Foundation
import DrctlStorage
import Synchronization

/// Times a drill's phases in order, on the monotonic clock, and its whole run since `start`.
final class PhaseClock: Sendable {
    private let start = RestoreTiming.now()
    private let recorded = Mutex<[DrillPhase]>([])

    var phases: [DrillPhase] { recorded.withLock { $0 } }

    /// Seconds since the drill started.
    var elapsed: Double { Double(RestoreTiming.now() - start) / 1e9 }

    func record(_ name: String, seconds: Double) {
        recorded.withLock { $0.append(DrillPhase(name: name, seconds: (seconds * 1000).rounded() / 1000)) }
    }

    /// Runs `body` and records its wall time as phase `name`, also when it throws.
    func time<T>(_ name: String, _ body: () async throws -> T) async rethrows -> T {
        let began = RestoreTiming.now()
        defer { record(name, seconds: Double(RestoreTiming.now() - began) / 1e9) }
        return try await body()
    }
}
