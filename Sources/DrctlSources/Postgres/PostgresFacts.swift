import Foundation

/// What a backup's manifest records about the PostgreSQL server it was taken from.
public struct PostgresFacts: Sendable, Codable, Equatable {
    /// e.g. "15.20".
    public var serverVersion: String
    /// e.g. 150020.
    public var serverVersionNumber: Int
    /// True on a standby.
    public var inRecovery: Bool
    /// The databases covered: non-template, connectable (the selection when one was given).
    public var databases: [String]
    /// `pg_current_wal_lsn()` on a primary, `pg_last_wal_replay_lsn()` on a standby, e.g. "0/1A2B3C8".
    public var consistentLSN: String
    /// The WAL timeline of `consistentLSN`, when the role may see it.
    public var timeline: Int?
    /// The server's clock when `consistentLSN` was read.
    public var capturedAt: Date
    /// Row counts of every ordinary table in the covered databases, sorted by database, schema, table.
    public var tables: [TableCount]

    public init(serverVersion: String, serverVersionNumber: Int, inRecovery: Bool, databases: [String],
                consistentLSN: String, timeline: Int?, capturedAt: Date, tables: [TableCount]) {
        self.serverVersion = serverVersion
        self.serverVersionNumber = serverVersionNumber
        self.inRecovery = inRecovery
        self.databases = databases
        self.consistentLSN = consistentLSN
        self.timeline = timeline
        self.capturedAt = capturedAt
        self.tables = tables
    }
}

/// A table's row count: exact (`count(*)`), or the planner's estimate (`reltuples`) when that is
/// above the policy's exact-count limit.
public struct TableCount: Sendable, Codable, Equatable, Hashable {
    public var database: String
    public var schema: String
    public var table: String
    public var rows: Int64
    public var estimated: Bool

    public init(database: String, schema: String, table: String, rows: Int64, estimated: Bool) {
        self.database = database
        self.schema = schema
        self.table = table
        self.rows = rows
        self.estimated = estimated
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
