import Foundation
import Glibc
import Testing
import DrctlSources
import DrctlTestSupport

/// `kind: postgres` (logical) end to end: globals and every database under one manifest, with
/// row counts; restored archives load into a fresh database with the same rows.
@Suite struct PostgresTargetTests {
    func target(_ pg: PostgresCluster, databases: [String] = []) -> String {
        """
          - name: db
            kind: postgres
            mode: logical
            connection:
              host: 127.0.0.1
              port: \(pg.port)
              user: postgres
              password: {env: DRCTL_TEST_PG_PASSWORD}
        \(databases.isEmpty ? "" : "      databases: [\(databases.joined(separator: ", "))]")

        """
    }

    @Test func backupAndRestoreArchives() throws {
        let sandbox = try Sandbox()
        let pg = try PostgresCluster.start(superuserPassword: "pg pass 42")
        try pg.sql("CREATE DATABASE app")
        try pg.sql("""
            CREATE SCHEMA billing;
            CREATE TABLE billing.invoices (id serial PRIMARY KEY, amount numeric, note text);
            INSERT INTO billing.invoices (amount, note) SELECT i, md5(i::text) FROM generate_series(1, 5000) i;
            CREATE TABLE public.users (id int, name text);
            INSERT INTO public.users SELECT i, 'user ' || i FROM generate_series(1, 123) i;
            CREATE ROLE reporting LOGIN PASSWORD 'r3port';
            """, database: "app")
        try sandbox.writePolicy(targets: [], rawTargets: target(pg))
        let environment = ["DRCTL_TEST_PG_PASSWORD": pg.superuserPassword!]

        let backup = try Drctl.run(["backup", "--policy", sandbox.policyPath, "--json"], environment: environment)
        #expect(backup.status == 0, "\(backup)")
        let manifestName = try #require(sandbox.files(under: "\(sandbox.repository)/manifests/db").first)
        let manifest = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: "\(sandbox.repository)/manifests/db/\(manifestName)"))) as? [String: Any]
        let objects = (manifest?["objects"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(objects.first == "globals.sql" && objects.count == 3, "\(objects)")   // globals, app, postgres
        let source = manifest?["source"] as? [String: Any]
        let tables = source?["tables"] as? [[String: Any]] ?? []
        #expect(tables.contains { $0["table"] as? String == "invoices" && $0["rows"] as? Int == 5000 }, "\(tables)")
        #expect((manifest?["consistent_point"] as? [String: Any])?["lsn"] != nil)

        // Restore: one file per object in a directory; then load the app archive elsewhere.
        let out = "\(sandbox.root)/restored"
        let restore = try sandbox.drctl(["restore", "--target", "db", "--to", out])
        #expect(restore.status == 0, "\(restore)")
        let globals = try String(contentsOfFile: "\(out)/globals.sql", encoding: .utf8)
        #expect(globals.contains("CREATE ROLE reporting"))
        let appArchive = try #require(objects.first { $0.contains("app") })
        #expect(try pg.client(["createdb", "copy"]).exit.succeeded)
        let load = try pg.client(["pg_restore", "--no-owner", "-d", "copy", "\(out)/\(appArchive)"])
        #expect(load.exit.succeeded, "\(load.stderr)")
        #expect(try pg.sql("SELECT count(*), sum(amount) FROM billing.invoices", database: "copy") == "5000|12502500")
        #expect(try pg.sql("SELECT count(*) FROM public.users", database: "copy") == "123")

        // A second restore into the same directory refuses to overwrite.
        let again = try sandbox.drctl(["restore", "--target", "db", "--to", out])
        #expect(again.status == 6, "\(again)")
        let toStdout = try sandbox.drctl(["restore", "--target", "db", "--to", "-"])
        #expect(toStdout.status == 2 && toStdout.stderr.contains("directory"), "\(toStdout)")
    }

    @Test func wrongPasswordAndMissingDatabaseFailBeforeWriting() throws {
        let sandbox = try Sandbox()
        let pg = try PostgresCluster.start(superuserPassword: "pg pass 42")
        try sandbox.writePolicy(targets: [], rawTargets: target(pg))
        let wrong = try Drctl.run(["backup", "--policy", sandbox.policyPath], environment: ["DRCTL_TEST_PG_PASSWORD": "nope"])
        #expect(wrong.status == 1, "\(wrong)")
        #expect(wrong.stderr.contains("postgres") && wrong.stderr.contains("127.0.0.1:\(pg.port)"), "\(wrong)")
        #expect(!wrong.stderr.contains("nope"), "the password must not be echoed")

        try sandbox.writePolicy(targets: [], rawTargets: target(pg, databases: ["missing_db"]))
        let missing = try Drctl.run(["backup", "--policy", sandbox.policyPath], environment: ["DRCTL_TEST_PG_PASSWORD": pg.superuserPassword!])
        #expect(missing.status == 1 && missing.stderr.contains("missing_db"), "\(missing)")
        #expect(sandbox.backupFiles(under: sandbox.repository).allSatisfy { $0 == "repository.json" })
    }

    /// Globals first (an existing role is fine), then each database; a non-empty database is
    /// refused unless --force, which drops and recreates it, and only once the client programs
    /// it needs are there.
    @Test func restoreIntoAFreshServer() throws {
        let sandbox = try Sandbox()
        let source = try PostgresCluster.start(superuserPassword: "pg pass 42")
        try source.sql("CREATE DATABASE app")
        try source.sql("""
            CREATE ROLE reporting LOGIN PASSWORD 'r3port';
            CREATE TABLE t (id int PRIMARY KEY, v text);
            INSERT INTO t SELECT i, repeat('x', i % 50) FROM generate_series(1, 3000) i;
            ALTER TABLE t OWNER TO reporting;
            """, database: "app")
        try sandbox.writePolicy(targets: [], rawTargets: target(source))
        #expect(try Drctl.run(["backup", "--policy", sandbox.policyPath],
                              environment: ["DRCTL_TEST_PG_PASSWORD": source.superuserPassword!]).status == 0)

        let fresh = try PostgresCluster.start(superuserPassword: "pg pass 42")
        let url = "postgres://postgres@127.0.0.1:\(fresh.port)"
        let restore = try Drctl.run(["restore", "--policy", sandbox.policyPath, "--target", "db", "--to", url],
                                    environment: ["PGPASSWORD": fresh.superuserPassword!])
        #expect(restore.status == 0, "\(restore)")
        #expect(!restore.stdout.contains(fresh.superuserPassword!) && !restore.stderr.contains(fresh.superuserPassword!))
        #expect(try fresh.sql("SELECT count(*), sum(length(v)) FROM t", database: "app")
                == source.sql("SELECT count(*), sum(length(v)) FROM t", database: "app"))
        #expect(try fresh.sql("SELECT tableowner FROM pg_tables WHERE tablename = 't'", database: "app") == "reporting")

        let refused = try Drctl.run(["restore", "--policy", sandbox.policyPath, "--target", "db", "--to", url],
                                    environment: ["PGPASSWORD": fresh.superuserPassword!])
        #expect(refused.status == 6 && refused.stderr.contains("/app (the database is not empty)"), "\(refused)")
        try fresh.sql("INSERT INTO t VALUES (99999, 'added after')", database: "app")
        // Without pg_restore on PATH, --force drops nothing: the programs are found first.
        let onlyPsql = "\(sandbox.root)/only-psql"
        try FileManager.default.createDirectory(atPath: onlyPsql, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: "\(onlyPsql)/psql", withDestinationPath: "\(PostgresCluster.binDir)/psql")
        let noPgRestore = try Drctl.run(["restore", "--policy", sandbox.policyPath, "--target", "db", "--to", url, "--force"],
                                        environment: ["PGPASSWORD": fresh.superuserPassword!, "PATH": onlyPsql])
        #expect(noPgRestore.status != 0 && noPgRestore.stderr.contains("pg_restore")
                && noPgRestore.stderr.contains("not found in PATH"), "\(noPgRestore)")
        #expect(try fresh.sql("SELECT count(*) FROM t", database: "app") == "3001")
        let forced = try Drctl.run(["restore", "--policy", sandbox.policyPath, "--target", "db", "--to", url, "--force"],
                                   environment: ["PGPASSWORD": fresh.superuserPassword!])
        #expect(forced.status == 0, "\(forced)")
        #expect(try fresh.sql("SELECT count(*) FROM t", database: "app") == "3000")
    }

    /// The password reaches pg_dump and pg_dumpall by a password file only: wrappers first on
    /// PATH record each child's argv (/proc/self/cmdline), whether PGPASSWORD was set and the
    /// password file it was given; neither the argv nor drctl's own output (logs included)
    /// contain the password.
    @Test func passwordNeverOnArgvOrInLogs() throws {
        let sandbox = try Sandbox()
        let pg = try PostgresCluster.start(superuserPassword: "pg pass 42")
        let wrappers = "\(sandbox.root)/bin"
        try FileManager.default.createDirectory(atPath: wrappers, withIntermediateDirectories: true)
        let real = try #require(try FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")
            .sorted().last.map { "/usr/lib/postgresql/\($0)/bin" })
        for program in ["pg_dump", "pg_dumpall"] {
            let script = """
                #!/bin/sh
                tr '\\0' ' ' < /proc/$$/cmdline >> '\(sandbox.root)/argv.log'
                echo " PGPASSWORD=${PGPASSWORD:+set}" >> '\(sandbox.root)/argv.log'
                [ -n "$PGPASSFILE" ] && cat "$PGPASSFILE" >> '\(sandbox.root)/passfile.log'
                exec \(real)/\(program) "$@"

                """
            try script.write(toFile: "\(wrappers)/\(program)", atomically: true, encoding: .utf8)
            _ = chmod("\(wrappers)/\(program)", 0o755)
        }
        try sandbox.writePolicy(targets: [], rawTargets: target(pg))
        let path = "\(wrappers):" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let backup = try Drctl.run(["backup", "--policy", sandbox.policyPath, "--log-level", "trace"],
                                   environment: ["DRCTL_TEST_PG_PASSWORD": pg.superuserPassword!, "PATH": path])
        #expect(backup.status == 0, "\(backup)")
        let log = try String(contentsOfFile: "\(sandbox.root)/argv.log", encoding: .utf8)
        #expect(log.contains("pg_dumpall") && log.contains("pg_dump --format=custom"), "\(log)")
        #expect(!log.contains(pg.superuserPassword!), "a password on an argv: \(log)")
        // No invocation had the password in its environment; the two dumping ones (not
        // `pg_dump --version`) had it in their password file.
        let dumps = log.split(separator: "\n").filter { $0.contains("--format=custom") || $0.contains("--globals-only") }
        #expect(dumps.count == 2 && log.split(separator: "\n").allSatisfy { $0.hasSuffix("PGPASSWORD=") }, "\(log)")
        let passwordFiles = try String(contentsOfFile: "\(sandbox.root)/passfile.log", encoding: .utf8)
        #expect(passwordFiles == "*:*:*:*:pg pass 42\n*:*:*:*:pg pass 42\n", "\(passwordFiles)")
        #expect(!backup.stdout.contains(pg.superuserPassword!) && !backup.stderr.contains(pg.superuserPassword!))
    }
}

/// A database restore whose region fails part way (pg_restore, or drctl's own loaders under
/// `--jobs`, have loaded some of the archive) falls back to the next region into the database
/// made empty again.
@Suite struct PostgresRegionFallbackTests {
    @Test func corruptTailInFirstRegionRestoresFromSecond() throws {
        let sandbox = try Sandbox()
        let source = try PostgresCluster.start(superuserPassword: "pg pass 42")
        try source.sql("CREATE DATABASE app")
        try source.sql("""
            CREATE TABLE notes (id int PRIMARY KEY, body text);
            INSERT INTO notes SELECT i, md5(i::text) || md5((i * 7)::text) FROM generate_series(1, 150000) i;
            """, database: "app")
        let first = "\(sandbox.root)/r1", second = "\(sandbox.root)/r2"
        try sandbox.writePolicy(targets: [], regions: [("r1", first), ("r2", second)], rawTargets: """
              - name: db
                kind: postgres
                connection: {host: 127.0.0.1, port: \(source.port), user: postgres, password: {env: DRCTL_TEST_PG_PASSWORD}, databases: [app]}

            """)
        let backup = try Drctl.run(["backup", "--policy", sandbox.policyPath],
                                   environment: ["DRCTL_TEST_PG_PASSWORD": source.superuserPassword!])
        #expect(backup.status == 0, "\(backup)")

        // Damage the last bytes of the app archive in r1: every chunk before them authenticates
        // and reaches pg_restore, which creates the table and loads rows before the failure.
        let archive = try #require(sandbox.files(under: "\(first)/data").first { $0.contains("app") })
        let path = "\(first)/data/\(archive)"
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        let size = try handle.seekToEnd()
        #expect(size > 3 << 20, "the archive must span several chunks: \(size) bytes")
        try handle.seek(toOffset: size - 100)
        var byte = try #require(try handle.read(upToCount: 1))
        byte[0] ^= 0x01
        try handle.seek(toOffset: size - 100)
        try handle.write(contentsOf: byte)
        try handle.close()

        // Streamed, then staged with --jobs (its loaders were part way through the table).
        let staging = "\(sandbox.root)/staging"
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        for parallel in [[], ["--jobs", "2", "--staging-dir", staging]] {
            let fresh = try PostgresCluster.start(superuserPassword: "pg pass 42")
            let restore = try Drctl.run(["restore", "--policy", sandbox.policyPath, "--target", "db",
                                         "--to", "postgres://postgres@127.0.0.1:\(fresh.port)"] + parallel,
                                        environment: ["PGPASSWORD": fresh.superuserPassword!])
            #expect(restore.status == 0, "\(parallel): \(restore)")
            #expect(restore.stderr.contains("r1") && restore.stderr.contains("recreating the partially restored database"),
                    "\(parallel): \(restore.stderr)")
            #expect(try fresh.sql("SELECT count(*), sum(length(body)) FROM notes", database: "app")
                    == source.sql("SELECT count(*), sum(length(body)) FROM notes", database: "app"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: staging).isEmpty)
    }
}
