import Foundation
import Glibc
import DrctlSources
import Synchronization

/// A throwaway PostgreSQL cluster for one drill: a copy of the `initdb` template of the backup's
/// major version (or the nearest newer one installed), started with that version's `pg_ctl`,
/// data in `<scratch>/postgres/data`, listening on 127.0.0.1 only on a free port, no Unix
/// socket. The superuser `postgres` logs in over TCP with a random password (SCRAM) that exists
/// only for this drill.
/// As root, the server runs as the `postgres` OS user, as PostgreSQL requires.
final class ScratchPostgres: Sendable {
    let directory: String
    let binDir: String
    let port: Int
    let password: String
    private let runAs: String?
    private let stopped = Atomic(false)

    var dataDirectory: String { "\(directory)/data" }

    /// For `RestoreJob`: the password is hex, so it needs no escaping in the URL.
    var url: String { "postgres://postgres:\(password)@127.0.0.1:\(port)" }

    func endpoint(database: String) -> PostgresEndpoint {
        endpoint(database: database, password: password)
    }

    private func endpoint(database: String, password: String) -> PostgresEndpoint {
        PostgresEndpoint(host: "127.0.0.1", port: port, user: "postgres", password: password,
                         database: database, sslmode: "disable", connectTimeout: 10)
    }

    /// Server binaries for `serverVersion` ("15.10"): that major's, else the lowest newer one.
    static func binaries(forServerVersion serverVersion: String?, root: String = "/usr/lib/postgresql") throws -> String {
        let installed = PostgresClientProgram.installedMajors(having: "initdb", in: root)
        let major = serverVersion.flatMap { Int($0.prefix { $0.isNumber }) }
        guard let chosen = major.map({ wanted in installed.first { $0 >= wanted } }) ?? installed.last else {
            throw DrillError.noServerBinaries(major: major.map(String.init) ?? "any", searched: "\(root)/*/bin")
        }
        return "\(root)/\(chosen)/bin"
    }

    /// Copies the template data directory (`PostgresTemplate`: initdb'd once per PostgreSQL
    /// version), starts it and gives the superuser this drill's own password; on failure
    /// everything made so far is stopped (the caller removes the scratch directory).
    init(in scratch: ScratchDirectory, serverVersion: String?, templates: String) throws {
        directory = scratch.postgresDirectory
        let dataDirectory = "\(directory)/data"
        binDir = try Self.binaries(forServerVersion: serverVersion)
        password = ScratchPassword.random()
        runAs = getuid() == 0 ? "postgres" : nil
        let template = try PostgresTemplate.ready(in: templates, binDir: binDir, runAs: runAs)
        try PostgresTemplate.makeOwnedDirectory(directory, runAs: runAs)
        let copy = try ServerProgram.run(runAs, in: directory, ["cp", "-a", "--", template.dataDirectory, dataDirectory])
        guard copy.exit.succeeded else {
            throw DrillError.scratch("cannot copy the PostgreSQL template \(template.dataDirectory): \(copy.stderr)")
        }
        let settings = """

            # drctl drill: a scratch instance, thrown away after the drill.
            listen_addresses = '127.0.0.1'
            unix_socket_directories = ''   # TCP only: a socket path under the scratch root can exceed 107 bytes
            logging_collector = off
            fsync = off
            synchronous_commit = off
            full_page_writes = off
            autovacuum = off               # nothing to maintain; it would compete with the verification
            """
        let conf = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(dataDirectory)/postgresql.conf"))
        conf.seekToEndOfFile()
        conf.write(Data(settings.utf8))
        try conf.close()
        port = try Self.start(binDir: binDir, dataDirectory: dataDirectory, in: directory, runAs: runAs)
        do {
            let connection = try PostgresConnection(endpoint(database: "postgres", password: template.password))
            defer { connection.close() }
            try connection.query("ALTER ROLE postgres PASSWORD '\(password)'")   // hex: nothing to escape
        } catch {
            stop()
            throw DrillError.instanceFailed(what: "PostgreSQL (setting the drill's password)", log: "\(error)")
        }
    }

    /// `pg_ctl start` on a free loopback port, picking another if someone took it first.
    private static func start(binDir: String, dataDirectory: String, in directory: String, runAs: String?) throws -> Int {
        var lastLog = ""
        for _ in 0..<5 {
            let candidate = try LoopbackPort.free()
            let start = try ServerProgram.run(runAs, in: directory, ["\(binDir)/pg_ctl", "-D", dataDirectory, "-l", "\(directory)/log",
                                                                    "-o", "-p \(candidate)", "-w", "-t", "60", "start"])
            if start.exit.succeeded { return candidate }
            lastLog = ((try? String(contentsOfFile: "\(directory)/log", encoding: .utf8)) ?? start.stderr)
            // Someone took the port between our pick and the server's bind: pick again.
            guard lastLog.contains("could not bind") || lastLog.contains("Address already in use") else { break }
        }
        throw DrillError.instanceFailed(what: "PostgreSQL", log: String(lastLog.suffix(1500)))
    }

    /// Immediate shutdown: nothing in a scratch instance is worth a checkpoint.
    func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        let result = try? ServerProgram.run(runAs, in: directory, ["\(binDir)/pg_ctl", "-D", dataDirectory, "-m", "immediate",
                                                          "-w", "-t", "30", "stop"])
        if result?.exit.succeeded != true {
            _ = ScratchDirectory(path: URL(fileURLWithPath: directory).deletingLastPathComponent().path).stopServers()
        }
    }
}
