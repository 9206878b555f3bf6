import DrctlSources

/// pg_dump / pg_dumpall output made comparable across two clusters: without the per-run
/// `\restrict` keys newer releases add (random on every run), with each table's rows sorted
/// (COPY writes rows in physical order, which an UPDATE on the source changes and a reload
/// does not reproduce; a table's rows are a set), and each other line passed through
/// `rewrite` (nil drops it).
public func comparableDump(_ dump: String, rewrite: (Substring) -> Substring? = { $0 }) -> String {
    var lines: [Substring] = []
    var rows: [Substring]?
    for line in dump.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("\\restrict") || line.hasPrefix("\\unrestrict") { continue }
        if rows != nil, line == "\\." {
            lines += rows!.sorted()
            rows = nil
        }
        if rows != nil {
            rows!.append(line)
            continue
        }
        if let kept = rewrite(line) { lines.append(kept) }
        if line.hasPrefix("COPY ") && line.hasSuffix("FROM stdin;") { rows = [] }
    }
    return lines.joined(separator: "\n")
}

extension PostgresCluster {
    /// `pg_dump` of one database as plain SQL, made comparable across clusters (`comparableDump`).
    public func comparableDump(of database: String) throws -> String {
        let dump = try client(["\(Self.binDir)/pg_dump", "--no-sync", "-d", database])
        guard dump.exit.succeeded else { throw TestFailure("pg_dump \(database): \(dump.stderr)") }
        return DrctlTestSupport.comparableDump(dump.stdout)
    }
}
