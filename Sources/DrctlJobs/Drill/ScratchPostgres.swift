import Foundation
import Glibc
import DrctlSources

/// A throwaway PostgreSQL cluster for one drill: `initdb` and `pg_ctl` of the backup's major
/// version (or the nearest newer one installed), data in `<scratch>/postgres/data`, listening on
/// 127.0.0.1 only on a free port, no Unix socket. The superuser
/// `postgres` logs in over TCP with a random password (SCRAM) that exists only for this drill.
/// As root, the server runs as the `postgres` OS user, as PostgreSQL requires.
final class ScratchPostgres: @unchecked Sendable {
    let directory: String
    let binDir: String
    let port: Int
    let password: String
    private let runAs: String?
    private var stopped = false

    var dataDirectory: String { "\(directory)/data" }
    var address: String { "127.0.0.1:\(port)" }

    /// For `RestoreJob`: the password is hex, so it needs no escaping in the URL.
    var url: String { "postgres://postgres:\(password)@127.0.0.1:\(port)" }

    func endpoint(database: String) -> PostgresEndpoint {
        PostgresEndpoint(host: "127.0.0.1", port: port, user: "postgres", password: password,
                         database: database, sslmode: "disable", connectTimeout: 10)
    }

    /// Server binaries for `serverVersion` ("15.10"): that major's, else the lowest newer one.
    static func binaries(forServerVersion serverVersion: String?, root: String = "/usr/lib/postgresql") throws -> String {
        let installed = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap(Int.init).sorted()
            .filter { FileManager.default.isExecutableFile(atPath: "\(root)/\($0)/bin/initdb") }
        let major = serverVersion.flatMap { Int($0.prefix { $0.isNumber }) }
        guard let chosen = major.map({ wanted in installed.first { $0 >= wanted } }) ?? installed.last else {
            throw DrillError.noServerBinaries(major: major.map(String.init) ?? "any", searched: "\(root)/*/bin")
        }
        return "\(root)/\(chosen)/bin"
    }

    /// initdb and start; on failure everything made so far is stopped (the caller removes the
    /// scratch directory).
    init(in scratch: ScratchDirectory, serverVersion: String?) throws {
        directory = scratch.postgresDirectory
        let dataDirectory = "\(directory)/data"
        binDir = try Self.binaries(forServerVersion: serverVersion)
        password = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        runAs = getuid() == 0 ? "postgres" : nil
        guard mkdir(directory, 0o700) == 0 else {
            throw DrillError.scratch("cannot create \(directory): \(String(cString: strerror(errno)))")
        }
        let passwordFile = "\(directory)/pwfile"
        try password.write(toFile: passwordFile, atomically: false, encoding: .utf8)
        if let runAs {
            guard let account = getpwnam(runAs) else {
                throw DrillError.scratch("running as root needs a '\(runAs)' OS user to run the scratch PostgreSQL server")
            }
            chown(directory, account.pointee.pw_uid, account.pointee.pw_gid)
            chown(passwordFile, account.pointee.pw_uid, account.pointee.pw_gid)
        }
        let initdb = try Self.run(runAs, in: directory, ["\(binDir)/initdb", "-D", dataDirectory, "-U", "postgres", "-E", "UTF8",
                                                         "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256",
                                                         "--pwfile=\(passwordFile)", "--no-sync", "--no-instructions"])
        unlink(passwordFile)
        guard initdb.exit.succeeded else {
            throw DrillError.instanceFailed(what: "PostgreSQL (initdb)", log: String((initdb.stdout + initdb.stderr).suffix(1500)))
        }
        let settings = """

            # drctl drill: a scratch instance, thrown away after the drill.
            listen_addresses = '127.0.0.1'
            unix_socket_directories = ''   # TCP only: a socket path under the scratch root can exceed 107 bytes
            logging_collector = off
            fsync = off
            synchronous_commit = off
            full_page_writes = off
            """
        let conf = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(dataDirectory)/postgresql.conf"))
        conf.seekToEndOfFile()
        conf.write(Data(settings.utf8))
        try conf.close()

        var lastLog = ""
        for _ in 0..<5 {
            let candidate = try LoopbackPort.free()
            let start = try Self.run(runAs, in: directory, ["\(binDir)/pg_ctl", "-D", dataDirectory, "-l", "\(directory)/log",
                                                            "-o", "-p \(candidate)", "-w", "-t", "60", "start"])
            if start.exit.succeeded {
                port = candidate
                return
            }
            lastLog = ((try? String(contentsOfFile: "\(directory)/log", encoding: .utf8)) ?? start.stderr)
            // Someone took the port between our pick and the server's bind: pick again.
            guard lastLog.contains("could not bind") || lastLog.contains("Address already in use") else { break }
        }
        throw DrillError.instanceFailed(what: "PostgreSQL", log: String(lastLog.suffix(1500)))
    }

    /// Immediate shutdown: nothing in a scratch instance is worth a checkpoint.
    func stop() {
        guard !stopped else { return }
        stopped = true
        let result = try? Self.run(runAs, in: directory, ["\(binDir)/pg_ctl", "-D", dataDirectory, "-m", "immediate",
                                                          "-w", "-t", "30", "stop"])
        if result?.exit.succeeded != true {
            _ = ScratchDirectory(path: URL(fileURLWithPath: directory).deletingLastPathComponent().path).stopServers()
        }
    }

    /// Runs a server program in `directory` (as `user` when given: PostgreSQL refuses root).
    private static func run(_ user: String?, in directory: String, _ argv: [String]) throws -> ChildProcess.Completed {
        let prefix = user.map { ["runuser", "-u", $0, "--"] } ?? []
        return try ChildProcess.run(prefix + ["env", "-C", directory] + argv)
    }
}
