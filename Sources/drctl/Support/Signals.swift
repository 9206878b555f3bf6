import Dispatch
import Glibc
import DrctlJobs

/// SIGINT and SIGTERM stop the running job cleanly (its partial objects are removed, nothing
/// is committed); SIGPIPE is ignored so a closed pipe is an error, not a silent death.
enum Signals {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    static func route(to interruption: Interruption) {
        signal(SIGPIPE, SIG_IGN)
        for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { interruption.interrupt(signal: name) }
            source.resume()
            sources.append(source)
        }
    }
}
