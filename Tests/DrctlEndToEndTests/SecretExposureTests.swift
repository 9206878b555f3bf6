import Foundation
import Glibc
import Testing
import DrctlTestSupport

/// A secret reaches only the process that needs it (issue #21, item 4). The policy's secrets are
/// environment variables of drctl (`{env: NAME}`), and so is a restore's `PGPASSWORD`: no program
/// drctl starts, nor anything those start (the drill's scratch postmaster, which `pg_ctl`
/// detaches, included), may hold one in its environment or argv, except a `kind: command`
/// program its own `environment`.
///
/// `DescendantSampler` reads every descendant's `/proc/PID/environ` and `cmdline` while backup,
/// restore and drill run. So that no short-lived program slips between two reads, every program
/// drctl finds on PATH is a wrapper that waits until the sampler has read it, then execs the real
/// one; what the sampler saw is checked to include each program the run must have started.
@Suite struct SecretExposureTests {
    /// Distinct values that appear nowhere else.
    let postgresPassword = "pg-secret-\(UUID().uuidString.prefix(8))"
    let redisPassword = "redis-secret-\(UUID().uuidString.prefix(8))"
    let commandToken = "token-secret-\(UUID().uuidString.prefix(8))"
    let restorePassword = "restore-secret-\(UUID().uuidString.prefix(8))"
    /// An argument of the command target, so its processes can be told apart.
    let commandMarker = "drctl-secret-exposure-command"

    @Test func noSecretInAnyChildOrTheScratchServer() throws {
        let sandbox = try Sandbox()
        let pg = try PostgresCluster.start(superuserPassword: postgresPassword)
        try pg.sql("CREATE DATABASE app")
        try pg.sql("CREATE TABLE notes AS SELECT i AS id, md5(i::text) AS body FROM generate_series(1, 100000) i", database: "app")
        let redis = try RedisServer(password: redisPassword)
        try redis.cli("DEBUG", "POPULATE", "2000", "key", "20")
        try sandbox.writePolicy(targets: [], rawTargets: """
              - name: db
                kind: postgres
                connection: {host: 127.0.0.1, port: \(pg.port), user: postgres, password: {env: DRCTL_TEST_PG_PASSWORD}, databases: [app]}
              - name: cache
                kind: redis
                connection: {host: 127.0.0.1, port: \(redis.port), password: {env: DRCTL_TEST_REDIS_PASSWORD}}
              - name: tool
                kind: command
                command: ["/bin/sh", "-c", "\(Self.holdUntilRead(sandbox)) printf %s \\"$DRCTL_TEST_TOKEN\\" | sha256sum", "\(commandMarker)"]
                environment: {DRCTL_TEST_TOKEN: {env: DRCTL_TEST_TOKEN}}

            """)
        let path = try wrapPrograms(in: sandbox)
        let environment = ["DRCTL_TEST_PG_PASSWORD": postgresPassword, "DRCTL_TEST_REDIS_PASSWORD": redisPassword,
                           "DRCTL_TEST_TOKEN": commandToken, "PATH": path]

        let backup = try sampled(["backup", "--policy", sandbox.policyPath], environment: environment, sandbox: sandbox)
        #expect(backup.result.status == 0, "\(backup.result)")
        expectSeen(backup.samples, ["pg_dump --format=custom", "pg_dumpall", commandMarker], in: "backup")
        // The command's own program has its environment.
        #expect(backup.samples.contains { $0.cmdline.contains(commandMarker) && $0.environment.contains("DRCTL_TEST_TOKEN=\(commandToken)") },
                "the command target's program did not get its environment")
        expectNoSecrets(backup.samples, in: "backup")

        let fresh = try PostgresCluster.start(superuserPassword: restorePassword)
        let restore = try sampled(["restore", "--policy", sandbox.policyPath, "--target", "db",
                                   "--to", "postgres://postgres@127.0.0.1:\(fresh.port)"],
                                  environment: environment.merging(["PGPASSWORD": restorePassword]) { $1 }, sandbox: sandbox)
        #expect(restore.result.status == 0, "\(restore.result)")
        #expect(try fresh.sql("SELECT count(*) FROM notes", database: "app") == "100000")
        expectSeen(restore.samples, ["psql", "pg_restore"], in: "restore")
        expectNoSecrets(restore.samples, in: "restore")

        let scratch = "\(sandbox.root)/scratch"
        let drill = try sampled(["drill", "--policy", sandbox.policyPath, "--scratch-dir", scratch], environment: environment,
                                sandbox: sandbox, scratch: scratch)
        #expect(drill.result.status == 0, "\(drill.result)")
        // As root the server programs run through runuser, as the postgres OS user.
        expectSeen(drill.samples, (getuid() == 0 ? ["runuser"] : []) + ["cp -a", "pg_ctl", "pg_restore", "psql", "redis-server"],
                   in: "drill")
        #expect(drill.samples.contains { $0.detached && $0.lineage.isEmpty && $0.cmdline.contains("postgres") },
                "the scratch postmaster was never read: \(drill.samples.map(\.cmdline))")
        expectNoSecrets(drill.samples, in: "drill")
    }

    /// Runs drctl while a sampler reads its descendants (and, with `scratch`, the scratch
    /// postmasters whose pids the drill's directories record).
    private func sampled(_ arguments: [String], environment: [String: String], sandbox: Sandbox,
                         scratch: String? = nil) throws -> (result: Drctl.Result, samples: [DescendantSampler.Sample]) {
        let running = try RunningDrctl(arguments, environment: environment)
        let sampler = try DescendantSampler(root: running.process.processIdentifier, seen: "\(sandbox.root)/seen") {
            guard let scratch else { return [] }
            return ((try? FileManager.default.contentsOfDirectory(atPath: scratch)) ?? []).compactMap { drill in
                (try? String(contentsOfFile: "\(scratch)/\(drill)/postgres/data/postmaster.pid", encoding: .utf8))?
                    .split(separator: "\n").first.flatMap { pid_t($0) }
            }
        }
        let result = running.wait()
        return (result, sampler.stop())
    }

    /// Each of `programs` (a part of an argv) was read at least once.
    private func expectSeen(_ samples: [DescendantSampler.Sample], _ programs: [String], in run: String) {
        #expect(!samples.isEmpty, "\(run): the sampler read no process at all")
        for program in programs {
            #expect(samples.contains { $0.cmdline.contains(program) }, "\(run): '\(program)' never read among \(Set(samples.map(\.cmdline)))")
        }
    }

    /// No secret in any argv or environment; the command target's token only in its own processes.
    private func expectNoSecrets(_ samples: [DescendantSampler.Sample], in run: String) {
        for sample in samples {
            let ownCommand = ([sample.cmdline] + sample.lineage).contains { $0.contains(commandMarker) }
            var secrets = [postgresPassword, redisPassword, restorePassword]
            if !ownCommand { secrets.append(commandToken) }
            for secret in secrets {
                #expect(!sample.cmdline.contains(secret), "\(run): a secret in the argv of \(sample.cmdline)")
                let holding = sample.environment.filter { $0.contains(secret) }.map { $0.prefix { $0 != "=" } }
                #expect(holding.isEmpty, "\(run): \(holding) hold a secret in the environment of \(sample.cmdline) (pid \(sample.pid), under \(sample.lineage))")
            }
        }
    }

    /// A shell fragment that waits (up to 8 s) until the sampler has read the shell's process.
    static func holdUntilRead(_ sandbox: Sandbox) -> String {
        "i=0; while [ ! -e '\(sandbox.root)/seen/'$$ ] && [ $i -lt 400 ]; do sleep 0.02; i=$((i + 1)); done;"
    }

    /// A directory put first on PATH whose programs wait until the sampler has read them, then
    /// exec the real ones: every program drctl finds on PATH lives long enough to be read.
    private func wrapPrograms(in sandbox: Sandbox) throws -> String {
        let bin = "\(sandbox.root)/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let real = [
            "pg_dump": "\(PostgresCluster.binDir)/pg_dump", "pg_dumpall": "\(PostgresCluster.binDir)/pg_dumpall",
            "pg_restore": "\(PostgresCluster.binDir)/pg_restore", "psql": "\(PostgresCluster.binDir)/psql",
            "cp": "/usr/bin/cp", "env": "/usr/bin/env", "runuser": "/usr/sbin/runuser", "redis-server": RedisServer.serverPath,
        ]
        for (program, path) in real {
            let script = """
                #!/bin/sh
                \(Self.holdUntilRead(sandbox))
                exec '\(path)' "$@"

                """
            try script.write(toFile: "\(bin)/\(program)", atomically: true, encoding: .utf8)
            _ = chmod("\(bin)/\(program)", 0o755)
        }
        return "\(bin):" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
    }
}
