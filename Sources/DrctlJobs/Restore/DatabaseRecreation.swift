import Foundation
import DrctlSources

/// Makes each database of a logical backup anew on the destination server as it was backed
/// up: encoding, LC_COLLATE/LC_CTYPE, locale provider and ICU locale, tablespace, owner,
/// connection limit, IS_TEMPLATE, its settings (ALTER DATABASE … SET, ALTER ROLE … IN
/// DATABASE … SET), comment, security labels and privileges. All of it comes from the
/// database's own archive, as pg_dump wrote it: the DATABASE entry's `CREATE DATABASE`
/// statement, then the rest through `pg_restore --create` on the archive's head.
///
/// Every database is checked (`check`) before any is created or loaded, so a property the
/// destination cannot honour stops the restore with nothing loaded, naming the database and
/// the property, unless the user mapped it (`DatabasePropertyMap`).
struct DatabaseRecreation: Sendable {
    let server: PostgresDestination
    let map: DatabasePropertyMap
    let force: Bool

    /// One database to make anew.
    struct Plan: Sendable {
        let database: String
        let head: ArchiveHead
        /// Its `CREATE DATABASE`, with the user's maps applied.
        let definition: DatabaseDefinition
        /// The statement that creates it: pg_dump's own, verbatim, unless a map changed it.
        let statement: String
        /// It exists on the destination (empty, or replaced under --force).
        let exists: Bool
    }

    func plan(_ database: String, head: ArchiveHead, exists: Bool) throws -> Plan {
        let original: DatabaseDefinition
        do {
            original = try head.definition(of: database)
        } catch {
            throw DatabasePropertyError(database: database, destination: server.display, problem: "\(error)",
                                        advice: "The backup cannot be restored database by database with its properties.")
        }
        let mapped = original.mapped(locales: map.locales, tablespaces: map.tablespaces)
        let verbatim = head.entries.first(where: \.isDatabase)?.definition?.trimmingCharacters(in: .whitespacesAndNewlines)
        return Plan(database: database, head: head, definition: mapped,
                    statement: mapped == original ? verbatim ?? mapped.statement() + ";" : mapped.statement() + ";",
                    exists: exists)
    }

    /// Before anything is created or loaded (after the globals, which create roles and
    /// tablespaces): each database's tablespace, its objects' tablespaces and its owner exist
    /// here, and the server accepts its encoding and locales (a probe database is created
    /// with them and dropped).
    func check(_ plans: [Plan]) throws {
        let admin = try server.administering()
        defer { admin.close() }
        for plan in plans {
            func refuse(_ problem: String, _ advice: String) -> DatabasePropertyError {
                DatabasePropertyError(database: plan.database, destination: server.display, problem: problem, advice: advice)
            }
            if let tablespace = plan.definition.tablespace, try !exists(tablespace, in: "pg_tablespace", "spcname", admin) {
                throw refuse("its tablespace '\(tablespace)' does not exist here",
                             "Create it (CREATE TABLESPACE), or pass --tablespace-map \(tablespace)=pg_default (or another tablespace).")
            }
            for (tablespace, objects) in plan.head.objectTablespaces.sorted(by: { $0.key < $1.key })
            where try !exists(tablespace, in: "pg_tablespace", "spcname", admin) {
                throw refuse("\(objects) of its objects are in tablespace '\(tablespace)', which does not exist here",
                             "Create that tablespace on the destination before restoring.")
            }
            if let owner = plan.head.owner, try !exists(owner, in: "pg_roles", "rolname", admin) {
                throw refuse("its owner, role '\(owner)', does not exist here (the backup's globals did not create it)",
                             "Create the role before restoring.")
            }
            let probe = "drctl_probe_" + UUID().uuidString.prefix(8).lowercased()
            do {
                try admin.query(plan.definition.statement(as: probe))
            } catch {
                let localeNames = plan.definition.locales.map { "\($0.key) '\($0.value)'" }.joined(separator: ", ")
                let example = plan.definition.locales.first.map { "--locale-map \($0.value)=C" } ?? "--locale-map OLD=NEW"
                throw refuse("the server refuses \(plan.definition.summary): \(Self.serverMessage(error))",
                             "Install the locale\(localeNames.isEmpty ? "" : " (\(localeNames))") on the destination, "
                             + "or pass \(example) (the encoding must suit the new locale; C suits every encoding).")
            }
            _ = try? admin.query("DROP DATABASE IF EXISTS \(quoteIdentifier(probe))")
        }
    }

    /// Drops the database it replaces (an empty one, or any under --force) and creates it with
    /// its properties, before any data is loaded.
    func create(_ plan: Plan) throws {
        try create(plan, dropping: plan.exists, endingSessions: force)
    }

    /// Makes anew a database whose load failed part way, for the next region's copy (this
    /// restore created it: its sessions are the failed attempt's).
    func recreate(_ plan: Plan) throws {
        try create(plan, dropping: true, endingSessions: true)
    }

    private func create(_ plan: Plan, dropping: Bool, endingSessions: Bool) throws {
        if dropping { try server.drop(plan.database, force: endingSessions) }
        try server.create(plan.database, head: plan.head.bytes, list: plan.head.databaseLevelList(), statement: plan.statement)
    }

    private func exists(_ name: String, in catalog: String, _ column: String, _ connection: PostgresConnection) throws -> Bool {
        try !connection.query("SELECT 1 FROM \(catalog) WHERE \(column) = $1", [name]).isEmpty
    }

    /// The server's own words, without libpq's "ERROR:" prefix.
    private static func serverMessage(_ error: Error) -> String {
        if let error = error as? PostgresError { return error.message }
        return "\(error)"
    }
}
