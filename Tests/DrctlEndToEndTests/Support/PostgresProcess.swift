import Foundation
import DrctlSources

/// A throwaway PostgreSQL cluster (scripts/pg-cluster.sh) on a loopback port; `postgres` gets a
/// password for TCP, the Unix socket in `directory` trusts everyone. Stopped at the end.
final class PostgresProcess {
    let directory: String
    let port: Int
    let password = "pg pass 42"

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scripts/pg-cluster.sh").path

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-pg-\(UUID().uuidString)").path
        let started = try ChildProcess.run([Self.script, "start", directory])
        guard started.exit.succeeded,
              let line = started.stdout.split(separator: "\n").first(where: { $0.hasPrefix("PGPORT=") }),
              let port = Int(line.dropFirst(7)) else {
            throw Failed(message: "pg-cluster.sh start: \(started.stdout) \(started.stderr)")
        }
        self.port = port
        try sql("ALTER ROLE postgres PASSWORD '\(password)'")
    }

    deinit {
        _ = try? ChildProcess.run([Self.script, "stop", directory])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs SQL through psql over the Unix socket; returns the unaligned, tuples-only output.
    @discardableResult
    func sql(_ statement: String, database: String = "postgres") throws -> String {
        let result = try ChildProcess.run(["psql", "-X", "-v", "ON_ERROR_STOP=1", "-At", "-h", directory, "-p", "\(port)",
                                           "-U", "postgres", "-d", database, "-c", statement])
        guard result.exit.succeeded else { throw Failed(message: "psql: \(statement): \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs a client program (pg_restore, createdb) against this cluster over the socket.
    func client(_ argv: [String]) throws -> ChildProcess.Completed {
        try ChildProcess.run(argv + ["-h", directory, "-p", "\(port)", "-U", "postgres"])
    }

    struct Failed: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}
