import ArgumentParser
import Foundation

/// The options `wal-push` and `wal-fetch` share: whose WAL it is. PostgreSQL runs both in the
/// data directory, so `--pgdata` defaults to the working directory.
struct WalTargetOptions: ParsableArguments {
    @Option(name: .long, help: "The physical PostgreSQL target whose WAL this is.")
    var target: String

    @Option(name: .long, help: ArgumentHelp(
        "The server's data directory, whose global/pg_control names the cluster (default: the working directory, "
            + "where PostgreSQL runs archive_command and restore_command).", valueName: "DIR"))
    var pgdata: String?

    var dataDirectory: String { pgdata ?? FileManager.default.currentDirectoryPath }
}
