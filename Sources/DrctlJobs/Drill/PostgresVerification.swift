import DrctlPolicy
import DrctlSources
import DrctlStorage

/// What a restored PostgreSQL backup must show: every table's row count recorded in the
/// manifest (exact counts equal; planner estimates within `estimateTolerance`), and every
/// check query of the policy returning its expected value.
struct PostgresVerification: Sendable {
    /// An estimated count passes within this fraction of the recorded value.
    static let estimateTolerance = 0.10

    let manifest: BackupManifest
    let checks: [DrillCheck]
    let connect: @Sendable (String) throws -> DrctlSources.PostgresConnection

    /// Checks without `database` run in the backup's first database other than `postgres`.
    var defaultDatabase: String {
        let databases = manifest.source.databases ?? manifest.objects.compactMap(\.database)
        return databases.first { $0 != "postgres" } ?? "postgres"
    }

    func run() -> [DrillCheckResult] {
        var results: [DrillCheckResult] = []
        var connections: [String: DrctlSources.PostgresConnection] = [:]
        defer { connections.values.forEach { $0.close() } }
        func connection(_ database: String) throws -> DrctlSources.PostgresConnection {
            if let open = connections[database] { return open }
            let made = try connect(database)
            connections[database] = made
            return made
        }
        for table in manifest.source.tables ?? [] {
            let name = "rows \(table.database).\(table.schema).\(table.table)"
            let expected = table.estimated ? "~\(table.rows)" : "\(table.rows)"
            do {
                let sql = "SELECT count(*) FROM \(quoteIdentifier(table.schema)).\(quoteIdentifier(table.table))"
                let actual = try connection(table.database).query(sql).first?.first.flatMap { $0 }.flatMap { Int64($0) } ?? -1
                let passed = table.estimated
                    ? Double(abs(actual - table.rows)) <= Double(table.rows) * Self.estimateTolerance
                    : actual == table.rows
                results.append(DrillCheckResult(name: name, expected: expected, actual: "\(actual)", passed: passed))
            } catch {
                results.append(DrillCheckResult(name: name, expected: expected, actual: nil, passed: false, error: "\(error)"))
            }
        }
        for check in checks {
            let database = check.database ?? defaultDatabase
            let name = "sql: \(check.sql)" + (check.database == nil ? "" : " (in \(database))")
            do {
                let rows = try connection(database).query(check.sql)
                guard let first = rows.first, !first.isEmpty else {
                    results.append(DrillCheckResult(name: name, expected: check.expect, actual: nil, passed: false,
                                                    error: "the query returned no rows"))
                    continue
                }
                let actual = first[0] ?? "NULL"
                results.append(DrillCheckResult(name: name, expected: check.expect, actual: actual, passed: actual == check.expect))
            } catch {
                results.append(DrillCheckResult(name: name, expected: check.expect, actual: nil, passed: false, error: "\(error)"))
            }
        }
        return results
    }
}
