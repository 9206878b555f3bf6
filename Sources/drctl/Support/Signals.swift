import Dispatch
import Glibc
import DrctlJobs

/// SIGINT and SIGTERM stop the running job cleanly (its partial objects are removed, nothing
/// is committed); SIGPIPE is ignored so a closed pipe is an error, not a silent death.
enum Signals {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    static func route(to interruption: Interruption) {
        onTermination { interruption.interrupt(signal: $0) }
    }

    /// Calls `handler` with the signal's name on each SIGINT or SIGTERM.
    static func onTermination(_ handler: @escaping @Sendable (String) -> Void) {
        signal(SIGPIPE, SIG_IGN)
        for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { handler(name) }
            source.resume()
            sources.append(source)
        }
    }
}
