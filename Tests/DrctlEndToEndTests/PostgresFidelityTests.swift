import Foundation
import Glibc
import Testing
import DrctlSources
import DrctlTestSupport

/// A logical backup restored into a fresh cluster is the same database: `pg_dump` of source and
/// copy are identical (schema and data, large objects, sequences, an extension, a non-default
/// schema), every table has the same rows, and the roles (with their passwords) are there.
@Suite struct PostgresFidelityTests {
    /// A `kind: postgres` target on `pg` as `user` (password in DRCTL_TEST_PG_PASSWORD), of
    /// every database or of `databases`.
    static func target(_ pg: PostgresCluster, name: String = "db", user: String = "postgres", databases: [String]? = nil) -> String {
        """
          - name: \(name)
            kind: postgres
            connection:
              host: 127.0.0.1
              port: \(pg.port)
              user: \(user)
              password: {env: DRCTL_TEST_PG_PASSWORD}
        \(databases.map { "      databases: [\($0.joined(separator: ", "))]\n" } ?? "")
        """
    }

    func rowCounts(_ pg: PostgresCluster, _ database: String) throws -> String {
        try pg.sql("""
            SELECT string_agg(format('%s.%s=%s', schemaname, relname,
                     (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', schemaname, relname),
                                                          false, true, '')))[1]::text), ',' ORDER BY schemaname, relname)
            FROM pg_stat_user_tables
            """, database: database)
    }

    @Test func restoredClusterDumpsIdentically() throws {
        let sandbox = try Sandbox()
        let source = try PostgresCluster.start(superuserPassword: "pg pass 42")
        try source.sql("CREATE ROLE shop_owner LOGIN PASSWORD 'owner pw 7'")
        try source.sql("CREATE ROLE readonly NOLOGIN")
        try source.sql("CREATE DATABASE shop OWNER shop_owner")
        let pgbench = try ChildProcess.run(["\(PostgresCluster.binDir)/pgbench", "-i", "-s", "2", "-q", "--foreign-keys",
                                            "-h", source.dir.path, "-p", "\(source.port)", "-U", "postgres", "shop"])
        #expect(pgbench.exit.succeeded, "\(pgbench.stderr)")
        try source.sql("""
            CREATE EXTENSION hstore;
            CREATE SCHEMA inventory AUTHORIZATION shop_owner;
            CREATE SEQUENCE inventory.sku_seq START 1000 INCREMENT 7;
            CREATE TABLE inventory.items (
                sku bigint PRIMARY KEY DEFAULT nextval('inventory.sku_seq'),
                attrs hstore, note text, picture oid, created_at timestamptz NOT NULL DEFAULT now());
            ALTER TABLE inventory.items OWNER TO shop_owner;
            INSERT INTO inventory.items (attrs, note)
                SELECT hstore('colour', md5(i::text)),
                       md5(random()::text) || repeat(chr(65 + (random() * 25)::int), (random() * 300)::int) || ' üñíçødé €'
                FROM generate_series(1, 20000) i;
            SELECT setval('inventory.sku_seq', 987654);
            UPDATE inventory.items SET picture = lo_from_bytea(0, convert_to(repeat('pixel ' || sku, 2000), 'UTF8'))
                WHERE sku % 5000 = 0;
            SELECT lo_from_bytea(424242, '\\x00ff00ff'::bytea);
            CREATE VIEW inventory.expensive AS SELECT sku, note FROM inventory.items WHERE sku > 5000;
            GRANT SELECT ON inventory.expensive TO readonly;
            CREATE FUNCTION inventory.label(bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'SKU-' || $1 $$;
            COMMENT ON TABLE inventory.items IS 'everything we sell';
            CREATE MATERIALIZED VIEW inventory.stock AS SELECT count(*) AS items, sum(sku) AS skus FROM inventory.items;
            CREATE INDEX items_note ON inventory.items (note);
            """, database: "shop")
        try sandbox.writePolicy(targets: [], rawTargets: Self.target(source))
        let backup = try Drctl.run(["backup", "--policy", sandbox.policyPath],
                                   environment: ["DRCTL_TEST_PG_PASSWORD": source.superuserPassword!])
        #expect(backup.status == 0, "\(backup)")

        let fresh = try PostgresCluster.start(superuserPassword: "other pass")
        let restore = try Drctl.run(["restore", "--policy", sandbox.policyPath, "--target", "db",
                                     "--to", "postgres://postgres@127.0.0.1:\(fresh.port)"],
                                    environment: ["PGPASSWORD": fresh.superuserPassword!])
        #expect(restore.status == 0, "\(restore)")

        for database in ["shop", "postgres"] {
            let original = try source.comparableDump(of: database)
            let copy = try fresh.comparableDump(of: database)
            #expect(original.contains("PostgreSQL database dump complete"))
            let difference = zip(original.split(separator: "\n"), copy.split(separator: "\n")).first { $0 != $1 }
            #expect(original == copy, "pg_dump of '\(database)' differs after restore, first at: \(String(describing: difference))")
            #expect(try rowCounts(source, database) == rowCounts(fresh, database))
        }
        #expect(try fresh.sql("SELECT count(*) FROM pg_largeobject_metadata", database: "shop") == "5")
        #expect(try fresh.sql("SELECT last_value FROM inventory.sku_seq", database: "shop") == "987654")
        // Roles came back with their password hashes: the owner logs in with its own password.
        let roles = "SELECT string_agg(rolname || ':' || coalesce(rolpassword, '-'), ',' ORDER BY rolname) FROM pg_authid WHERE rolname IN ('shop_owner', 'readonly')"
        #expect(try source.sql(roles) == fresh.sql(roles))
        let login = try PostgresConnection(fresh.tcp(user: "shop_owner", password: "owner pw 7", database: "shop"))
        login.close()

        // Parallel: staged in a local directory, tables loaded while it is written, pg_restore
        // --jobs 3 for the rest; the staging is emptied. The materialized view holds every row.
        let parallel = try PostgresCluster.start(superuserPassword: "third pass")
        let staging = "\(sandbox.root)/staging"
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        let url = "postgres://postgres@127.0.0.1:\(parallel.port)"
        let unstaged = try Drctl.run(["restore", "--policy", sandbox.policyPath, "--target", "db", "--to", url, "--jobs", "3"])
        #expect(unstaged.status == 2 && unstaged.stderr.contains("--staging-dir"), "\(unstaged)")
        let jobs = try Drctl.run(["restore", "--policy", sandbox.policyPath, "--target", "db", "--to", url,
                                  "--jobs", "3", "--staging-dir", staging],
                                 environment: ["PGPASSWORD": parallel.superuserPassword!])
        #expect(jobs.status == 0, "\(jobs)")
        // Every table went through drctl's loaders, whose pages left the staged file behind them.
        let loadLine = jobs.stderr.split(separator: "\n").first { $0.contains("table data loaded while staging") && $0.contains("database=shop") }
        #expect(loadLine?.contains("tables=5") == true && loadLine?.contains("released_from_staging=0") == false, "\(jobs)")
        #expect(try parallel.comparableDump(of: "shop") == source.comparableDump(of: "shop"))
        #expect(try parallel.sql("SELECT items || ':' || skus FROM inventory.stock", database: "shop")
                == source.sql("SELECT items || ':' || skus FROM inventory.stock", database: "shop"))
        #expect(try rowCounts(parallel, "shop") == rowCounts(source, "shop"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: staging).isEmpty)
    }
}

/// What goes wrong while a PostgreSQL backup runs: each a clear error, a non-zero exit, and
/// no manifest (the objects already written are removed).
@Suite struct PostgresFailureTests {
    func expectNothingStored(_ sandbox: Sandbox) {
        let stored = sandbox.backupFiles(under: sandbox.repository).filter { $0 != "repository.json" && !$0.hasPrefix("records/") }
        #expect(stored.isEmpty, "left behind: \(stored)")
    }

    /// A directory of wrappers put first on PATH: `pg_dump` runs the real one behind `body`
    /// (a shell fragment with $REAL, "$@" and $MARK, a file it creates on its first dump).
    func wrapPgDump(_ sandbox: Sandbox, _ body: String) throws -> String {
        let bin = "\(sandbox.root)/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let script = """
            #!/bin/bash
            set -o pipefail
            REAL='\(PostgresCluster.binDir)/pg_dump'
            MARK='\(sandbox.root)/dump-started'
            case "$1" in --version) exec "$REAL" "$@";; esac
            \(body)

            """
        try script.write(toFile: "\(bin)/pg_dump", atomically: true, encoding: .utf8)
        _ = chmod("\(bin)/pg_dump", 0o755)
        return "\(bin):" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
    }

    /// The server crashes (SIGQUIT to the postmaster: immediate shutdown) while pg_dump is in
    /// the middle of a COPY: the wrapper holds pg_dump's output back so it is still mid-table.
    @Test func serverKilledMidDump() throws {
        let sandbox = try Sandbox()
        let pg = try PostgresCluster.start(superuserPassword: "pg pass 42")
        try pg.sql("CREATE TABLE big AS SELECT i, md5(i::text) AS v FROM generate_series(1, 300000) i")
        try sandbox.writePolicy(targets: [], rawTargets: PostgresFidelityTests.target(pg))
        let path = try wrapPgDump(sandbox, #"touch "$MARK"; "$REAL" "$@" | { sleep 2; cat; }"#)
        let run = try RunningDrctl(["backup", "--policy", sandbox.policyPath],
                                   environment: ["DRCTL_TEST_PG_PASSWORD": pg.superuserPassword!, "PATH": path])
        #expect(eventually(within: 30) { FileManager.default.fileExists(atPath: "\(sandbox.root)/dump-started") })
        usleep(500_000)
        let pidFile = try String(contentsOfFile: pg.dir.appendingPathComponent("data/postmaster.pid").path, encoding: .utf8)
        let postmaster = try #require(pidFile.split(separator: "\n").first.flatMap { pid_t($0) })
        #expect(kill(postmaster, SIGQUIT) == 0)
        let result = run.wait()
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("pg_dump") && result.stderr.contains("backup of 'db' failed"), "\(result)")
        #expect(result.stderr.contains("server closed the connection") || result.stderr.contains("connection"), "\(result)")
        expectNothingStored(sandbox)
    }

    /// The second database is dropped while the first is being dumped.
    @Test func databaseDroppedMidBackup() throws {
        let sandbox = try Sandbox()
        let pg = try PostgresCluster.start(superuserPassword: "pg pass 42")
        try pg.sql("CREATE DATABASE alpha")
        try pg.sql("CREATE DATABASE omega")
        try pg.sql("CREATE TABLE t AS SELECT generate_series(1, 1000) i", database: "omega")
        try sandbox.writePolicy(targets: [], rawTargets: PostgresFidelityTests.target(pg, databases: ["alpha", "omega"]))
        let path = try wrapPgDump(sandbox, #"if [ ! -e "$MARK" ]; then touch "$MARK"; sleep 2; fi; exec "$REAL" "$@""#)
        let run = try RunningDrctl(["backup", "--policy", sandbox.policyPath],
                                   environment: ["DRCTL_TEST_PG_PASSWORD": pg.superuserPassword!, "PATH": path])
        #expect(eventually(within: 30) { FileManager.default.fileExists(atPath: "\(sandbox.root)/dump-started") })
        try pg.sql("DROP DATABASE omega WITH (FORCE)")
        let result = run.wait()
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("omega") && result.stderr.contains("does not exist"), "\(result)")
        expectNothingStored(sandbox)
    }

    @Test func pgDumpMissingFromPath() throws {
        let sandbox = try Sandbox()
        let pg = try PostgresCluster.start(superuserPassword: "pg pass 42")
        try sandbox.writePolicy(targets: [], rawTargets: PostgresFidelityTests.target(pg))
        let empty = "\(sandbox.root)/empty-bin"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let result = try Drctl.run(["backup", "--policy", sandbox.policyPath],
                                   environment: ["DRCTL_TEST_PG_PASSWORD": pg.superuserPassword!, "PATH": empty])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("pg_dump") && result.stderr.contains("not found in PATH"), "\(result)")
        expectNothingStored(sandbox)
    }
}
