import Foundation

/// Why a point-in-time restore of a physical target refused or failed; every refusal comes
/// before anything is written.
public enum PhysicalRestoreError: Error, CustomStringConvertible {
    case badTime(String)
    case badLSN(String)
    case badTimeline(String)
    case badTablespaceMap(String)
    case notPhysical(target: String)
    /// No base backup ends at or before the requested point (or the target has none).
    case beforeOldestBackup(target: String, requested: String, oldest: String?)
    /// The requested time is past the newest WAL the archive holds (as far as the regions
    /// that could be listed say: `unlisted` names the others, "region r2 could not be listed (why)").
    case pastArchivedWAL(requested: Date, newest: Date, unlisted: [String] = [])
    case dataDirectoryNotEmpty(String)
    case tablespaceDirectoryNotEmpty(String)
    case missingProgram(String, major: String)
    /// The restored files do not match the backup's `backup_manifest` (drctl's own check, or
    /// `pg_verifybackup`'s output).
    case verifyFailed(String)
    /// A base backup's archive holds a member a restore does not write (a name leaving the
    /// directory, a kind of member PostgreSQL never sends).
    case archiveRefused(archive: String, member: String, reason: String)
    case cannotPrepare(path: String, reason: String)
    case serverFailed(String)

    public var description: String {
        switch self {
        case .badTime(let text):
            return "--point-in-time '\(text)' is not an RFC 3339 time with an offset (2026-11-22T03:00:00Z, "
                + "2026-11-22T04:00:00+01:00) nor 'latest': a time without its offset would be read in a zone nobody chose"
        case .badLSN(let text):
            return "--lsn '\(text)' is not a WAL position (PostgreSQL's X/X hexadecimal form, e.g. 0/3000148)"
        case .badTimeline(let text):
            return "--timeline '\(text)' is not a timeline: a number (2), 'latest' or 'current'"
        case .badTablespaceMap(let text):
            return "--tablespace-map '\(text)' must be OLD=NEW, two absolute directories (the tablespace's location on the source server, and where to put it)"
        case .notPhysical(let target):
            return "target '\(target)' is not mode: physical: --lsn, --timeline and --start restore base backups only"
        case .beforeOldestBackup(let target, let requested, let oldest):
            let have = oldest.map { "; its oldest base backup is restorable from \($0)" } ?? "; it has no base backups"
            return "target '\(target)' has no base backup that ends at or before \(requested)\(have): no point before a base backup's end can be recovered"
        case .pastArchivedWAL(let requested, let newest, let unlisted):
            let unsure = unlisted.isEmpty ? "" : "; but the WAL archive of \(unlisted.joined(separator: ", of "))"
                + " and may hold later WAL: try again when it answers"
            return "the point in time \(PostgresTimeText.utc(requested)) is past the newest WAL in the archive "
                + "(pushed at \(PostgresTimeText.utc(newest))): recovery could not reach it; use 'latest' for everything archived\(unsure)"
        case .dataDirectoryNotEmpty(let path):
            return "\(path) is not empty; a restore never writes into an existing data directory unless you pass --force "
                + "(which empties it first: stop any server using it)"
        case .tablespaceDirectoryNotEmpty(let path):
            return "the tablespace directory \(path) is not empty; move it with --tablespace-map OLD=NEW, or pass --force to empty it"
        case .missingProgram(let program, let major):
            return "\(program) of PostgreSQL \(major) is not installed (looked in /usr/lib/postgresql/\(major)/bin): "
                + "install postgresql-\(major) (the server of the backup's major version)"
        case .verifyFailed(let output):
            return "the restored files do not match the base backup's manifest (backup_manifest); no recovery was set up and nothing was started: \(output)"
        case .archiveRefused(let archive, let member, let reason):
            let named = member.isEmpty ? "" : " member '\(member)'"
            return "the base backup's archive \(archive)\(named) was refused: \(reason); no recovery was set up and nothing was started"
        case .cannotPrepare(let path, let reason):
            return "cannot prepare \(path) for the server: \(reason)"
        case .serverFailed(let detail):
            return "the restored server did not reach the recovery target: \(detail)"
        }
    }
}
