import DrctlPipeline

/// The header and table of contents of a `pg_dump --format=custom` archive, read from the
/// start of its stream and nothing more: what a restore checks against the destination server
/// (the database's encoding, locales, tablespace and owner, the tablespaces its objects use)
/// and what pg_restore needs to create the database with its properties before any data is
/// loaded (the entries without data read nothing past the table of contents).
///
/// As a sink it takes the archive's first bytes and throws `ArchiveHead.Complete` as soon as
/// the table of contents is in, so the read of the rest is abandoned.
// unchecked: written by one pipeline thread, read only after the pipeline has ended.
public final class ArchiveHead: ByteSink, @unchecked Sendable {
    public private(set) var entries: [CustomArchiveScanner.Entry] = []
    /// The header and table of contents, exactly as stored.
    public private(set) var bytes: [UInt8] = []
    private let scanner = CustomArchiveScanner(countingRows: false)
    private var collected: [UInt8] = []

    /// Thrown by `write` once the head is complete: the reader may stop.
    public struct Complete: Error {}

    public enum Failure: Error, CustomStringConvertible {
        case unreadable(CustomArchiveScanner.Failure)
        case truncated
        case noDatabaseEntry

        public var description: String {
            switch self {
            case .unreadable(let failure): return "its archive cannot be read: \(failure)"
            case .truncated: return "its archive ends before its table of contents does"
            case .noDatabaseEntry: return "its archive has no DATABASE entry (was it made by pg_dump --format=custom?)"
            }
        }
    }

    public init() {
        scanner.onTableOfContents = { [unowned self] entries, _ in self.entries = entries }
    }

    public var isComplete: Bool { !bytes.isEmpty }

    public func write(_ piece: UnsafeRawBufferPointer) throws {
        guard !isComplete else { throw Complete() }
        collected.append(contentsOf: piece)
        scanner.consume(piece)
        if let failure = scanner.failure { throw Failure.unreadable(failure) }
        if let size = scanner.headSize {
            bytes = Array(collected.prefix(size))
            collected = []
            throw Complete()
        }
    }

    public func finish() throws {
        guard isComplete else { throw Failure.truncated }
    }

    public func abort() {}

    /// The DATABASE entry's `CREATE DATABASE` statement, read.
    public func definition(of database: String) throws -> DatabaseDefinition {
        guard let entry = entries.first(where: \.isDatabase), let sql = entry.definition else { throw Failure.noDatabaseEntry }
        return try DatabaseDefinition(parsing: sql, name: database)
    }

    /// The role that owns the database (the DATABASE entry's owner).
    public var owner: String? {
        entries.first(where: \.isDatabase)?.owner.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Tablespaces the database's objects are created in (other than its default), with how
    /// many objects use each.
    public var objectTablespaces: [String: Int] {
        var used: [String: Int] = [:]
        for entry in entries where !entry.isDatabaseLevel {
            if let tablespace = entry.tablespace, !tablespace.isEmpty { used[tablespace, default: 0] += 1 }
        }
        return used
    }

    /// pg_restore's `--use-list` for the entries that make the database itself: one line per
    /// dump id (pg_restore reads the leading number of each line).
    public func databaseLevelList() -> String {
        entries.filter(\.isDatabaseLevel).map { "\($0.id);\n" }.joined()
    }
}
