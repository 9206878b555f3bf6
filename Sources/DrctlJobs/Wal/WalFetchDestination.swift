/// `%p`, where `wal-fetch` puts the file PostgreSQL asked for (usually `pg_wal/RECOVERYXLOG`):
/// written beside it under a hidden name and renamed over it once whole (`WalOpener`, through
/// `FileSink`; `WalSpool.serve` across file systems). A `wal-fetch` killed while it writes (the
/// OOM killer, a crash: SIGKILL) leaves that hidden file, up to a segment's 16 MiB, and nothing
/// else would ever remove it: each such kill would add another to pg_wal.
///
/// PostgreSQL runs one `restore_command` at a time for a given `%p`, so a hidden file of that
/// name found when `wal-fetch` starts is a killed earlier run's, never one still being written:
/// it is removed before anything is written. One stopped by SIGTERM or SIGINT (a server
/// shutdown) removes its own the same way before it exits. Only `%p`'s own hidden files are
/// touched. (A logical restore's `FileSink` does not do this: nothing there says no other
/// restore is writing the same file.)
public enum WalFetchDestination {
    /// Removes the hidden files earlier (or this, when stopped) `wal-fetch` runs for `path` were writing.
    public static func removePartials(of path: String) {
        FileSink.removeLeftovers(of: path)
    }
}
