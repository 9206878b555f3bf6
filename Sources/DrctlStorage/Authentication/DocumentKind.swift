/// What a version 2 document is, as its authentication context names it: the same bytes signed
/// as one kind never verify as another.
public enum DocumentKind: String, Sendable {
    case manifest
    case drillRecord = "drill-record"
    case failureRecord = "failure-record"
    case lock
    case pruneRecord = "prune-record"
    /// The header of a WAL object (docs/FORMAT.md, "WAL archive"), for the id `<system-id>/<file>`.
    case wal
}
