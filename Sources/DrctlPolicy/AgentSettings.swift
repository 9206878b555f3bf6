import Foundation

/// `agent:` — how `drctl agent` runs: where it serves `/metrics` and `/healthz`, how it
/// spreads and catches up scheduled runs, how long it waits for a running job on shutdown,
/// and the schedules of the repository-wide jobs (prune, report). Every key is optional.
public struct AgentSettings: Sendable, Equatable {
    /// IPv4 `HOST:PORT`; loopback by default so metrics are not exposed by accident.
    public var listen: String
    /// Each scheduled instant is delayed by a random 0...jitter (nil = none).
    public var jitter: Duration?
    /// A run missed while the agent was down is run once at start-up if its instant is at most
    /// this old (nil = never).
    public var catchUp: Duration?
    /// On SIGTERM the running jobs are aborted; the agent waits at most this long for them.
    public var shutdownGrace: Duration
    /// `drctl prune` of every target with a retention policy.
    public var pruneSchedule: CronExpression?
    /// The monthly drill report, written to `reportDirectory`.
    public var reportSchedule: CronExpression?
    public var reportDirectory: String?
    /// The zone of the prune and report schedules (target schedules use the target's).
    public var timezone: String?

    public static let defaultListen = "127.0.0.1:9187"

    public init(listen: String = AgentSettings.defaultListen, jitter: Duration? = nil, catchUp: Duration? = .seconds(3600),
                shutdownGrace: Duration = .seconds(30), pruneSchedule: CronExpression? = nil,
                reportSchedule: CronExpression? = nil, reportDirectory: String? = nil, timezone: String? = nil) {
        self.listen = listen
        self.jitter = jitter
        self.catchUp = catchUp
        self.shutdownGrace = shutdownGrace
        self.pruneSchedule = pruneSchedule
        self.reportSchedule = reportSchedule
        self.reportDirectory = reportDirectory
        self.timezone = timezone
    }

    public var timeZone: TimeZone {
        timezone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!
    }
}
