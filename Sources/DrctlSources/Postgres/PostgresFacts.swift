import Foundation

/// What a backup's manifest records about the PostgreSQL server it was taken from.
public struct PostgresFacts: Sendable, Codable, Equatable {
    /// e.g. "15.20".
    public var serverVersion: String
    /// e.g. 150020.
    public var serverVersionNumber: Int
    /// True on a standby.
    public var inRecovery: Bool
    /// The databases covered: every one that accepts connections but template1 (the selection
    /// when one was given).
    public var databases: [String]
    /// Databases left out because they accept no connections (ALLOW_CONNECTIONS false; not
    /// template0), which pg_dump cannot read: named in the backup's warnings. Empty when the
    /// policy selects the databases.
    public var unconnectable: [String]
    /// `pg_current_wal_lsn()` on a primary, `pg_last_wal_replay_lsn()` on a standby, e.g. "0/1A2B3C8".
    public var consistentLSN: String
    /// The WAL timeline of `consistentLSN`, when the role may see it.
    public var timeline: Int?
    /// The server's clock when `consistentLSN` was read.
    public var capturedAt: Date

    public init(serverVersion: String, serverVersionNumber: Int, inRecovery: Bool, databases: [String],
                unconnectable: [String] = [], consistentLSN: String, timeline: Int?, capturedAt: Date) {
        self.unconnectable = unconnectable
        self.serverVersion = serverVersion
        self.serverVersionNumber = serverVersionNumber
        self.inRecovery = inRecovery
        self.databases = databases
        self.consistentLSN = consistentLSN
        self.timeline = timeline
        self.capturedAt = capturedAt
    }
}

/// "15.20" for 150020, "9.6.24" for 90624.
func postgresVersionString(_ number: Int) -> String {
    number >= 100000
        ? "\(number / 10000).\(number % 10000)"
        : "\(number / 10000).\(number / 100 % 100).\(number % 100)"
}

/// Comparable major version: 1500 for 15.x, 906 for 9.6.x.
func postgresMajor(_ number: Int) -> Int {
    number >= 100000 ? number / 10000 * 100 : number / 100
}

/// "15" or "9.6".
func postgresMajorString(_ number: Int) -> String {
    number >= 100000 ? "\(number / 10000)" : "\(number / 10000).\(number / 100 % 100)"
}
