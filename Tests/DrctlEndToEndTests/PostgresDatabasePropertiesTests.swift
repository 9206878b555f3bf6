import Foundation
import Glibc
import Testing
import DrctlSources
import DrctlTestSupport

/// A logical restore gives back the same databases, not only the same tables: each database's
/// encoding (SQL_ASCII and LATIN1 holding non-ASCII bytes), LC_COLLATE/LC_CTYPE, locale provider
/// and ICU locale, tablespace, owner, connection limit, IS_TEMPLATE, privileges (CONNECT revoked
/// from PUBLIC), comment and settings (ALTER DATABASE … SET, ALTER ROLE … IN DATABASE … SET).
/// The reference is pg_dumpall: its output for the original and the restored cluster is the same.
@Suite(.serialized) struct PostgresDatabasePropertiesTests {
    static let binDir = PostgresCluster.binDir

    /// A source cluster whose databases differ in every property a database has.
    static func source() throws -> PostgresCluster {
        let pg = try PostgresCluster.start(superuserPassword: "pg pass 42")
        try makeTablespace(pg, "fast")
        for statement in [
            "CREATE ROLE app_owner LOGIN PASSWORD 'owner pw'",
            "CREATE ROLE auditor LOGIN PASSWORD 'auditor pw'",
            "CREATE ROLE outsider LOGIN PASSWORD 'outsider pw'",
            "CREATE DATABASE legacy WITH TEMPLATE template0 ENCODING 'SQL_ASCII' LOCALE 'C'",
            "CREATE DATABASE latin WITH TEMPLATE template0 ENCODING 'LATIN1' LOCALE 'C' OWNER app_owner CONNECTION LIMIT 5",
            "COMMENT ON DATABASE latin IS 'Latin-1 data, ünïcödé comment'",
            "ALTER DATABASE latin SET work_mem = '7MB'",
            "ALTER ROLE auditor IN DATABASE latin SET statement_timeout = '5s'",
            "REVOKE CONNECT, TEMPORARY ON DATABASE latin FROM PUBLIC",
            "GRANT CONNECT ON DATABASE latin TO auditor",
            "CREATE DATABASE icu WITH TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'de-DE' LOCALE 'C.utf8'",
            "CREATE DATABASE split WITH TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C.utf8'",
            "CREATE DATABASE spaced TABLESPACE fast",
            "CREATE DATABASE tmpl",
            "ALTER DATABASE tmpl IS_TEMPLATE true",
        ] { try pg.sql(statement) }
        // Bytes that are not UTF-8: a SQL_ASCII database stores them as given.
        try pg.sql("CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes VALUES (1, E'caf\\xe9 cr\\xe8me \\xff\\xfe'), (2, 'plain')",
                   database: "legacy")
        try pg.sql("CREATE TABLE names (id int PRIMARY KEY, name text); INSERT INTO names SELECT i, 'Müller-' || i || ' Çà' FROM generate_series(1, 500) i",
                   database: "latin")
        try pg.sql("ALTER TABLE names OWNER TO app_owner", database: "latin")
        try pg.sql("CREATE TABLE words (w text); INSERT INTO words VALUES ('Äpfel'), ('Zebra'), ('apfel'), ('Öl')", database: "icu")
        try pg.sql("CREATE TABLE t (v text); INSERT INTO t VALUES ('ß'), ('x')", database: "split")
        try pg.sql("CREATE TABLE fast_rows AS SELECT generate_series(1, 1000) AS i", database: "spaced")
        try pg.sql("CREATE TABLE seed (v int); INSERT INTO seed VALUES (42)", database: "tmpl")
        return pg
    }

    /// A tablespace directory owned by the server's OS user, inside the cluster's directory.
    static func makeTablespace(_ pg: PostgresCluster, _ name: String) throws {
        let path = pg.dir.appendingPathComponent("ts-\(name)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        if getuid() == 0 { _ = try ChildProcess.run(["/bin/chown", "postgres:", path]) }
        try pg.sql("CREATE TABLESPACE \(name) LOCATION '\(path)'")
    }

    /// pg_dumpall of a cluster (`comparableDump`) with only what must differ removed:
    /// - each tablespace's LOCATION: two clusters on one machine cannot share a directory;
    /// - the superuser's password hash: the restore keeps the password of the role it logs in
    ///   as on the destination, or it could not log in again.
    static func dumpAll(_ pg: PostgresCluster) throws -> String {
        let dump = try pg.client(["\(binDir)/pg_dumpall", "--no-sync"])
        guard dump.exit.succeeded else { throw TestFailure("pg_dumpall: \(dump.stderr)") }
        return comparableDump(dump.stdout) { line in
            if line.hasPrefix("CREATE TABLESPACE "), let location = line.range(of: " LOCATION ") {
                return line[..<location.lowerBound]
            }
            if line.hasPrefix("ALTER ROLE postgres WITH "), let password = line.range(of: " PASSWORD ") {
                return line[..<password.lowerBound]
            }
            return line
        }
    }

    /// Every database's properties as the catalog has them, one line each. Privileges are
    /// compared as a set: re-granted, they may be listed in another order.
    static let catalogProperties = """
        SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s', d.datname, pg_encoding_to_char(d.encoding),
                 d.datcollate, d.datctype, d.datlocprovider, coalesce(d.daticulocale, '-'), r.rolname, t.spcname,
                 d.datconnlimit, d.datistemplate, d.datallowconn,
                 coalesce((SELECT string_agg(a::text, ' ' ORDER BY a::text) FROM unnest(d.datacl) a), '-'),
                 coalesce(shobj_description(d.oid, 'pg_database'), '-')), E'\\n' ORDER BY d.datname)
        FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba JOIN pg_tablespace t ON t.oid = d.dattablespace
        WHERE d.datname NOT IN ('postgres', 'template0')
        """
    static let settings = """
        SELECT string_agg(coalesce(d.datname, '*') || ':' || coalesce(r.rolname, '*') || '=' || s.setconfig::text, ',' ORDER BY 1)
        FROM pg_db_role_setting s LEFT JOIN pg_database d ON d.oid = s.setdatabase LEFT JOIN pg_roles r ON r.oid = s.setrole
        """

    static func expectSameDatabases(_ source: PostgresCluster, _ copy: PostgresCluster, _ label: String) throws {
        let original = try dumpAll(source), restored = try dumpAll(copy)
        #expect(original.contains("CREATE DATABASE latin WITH TEMPLATE = template0 ENCODING = 'LATIN1'"), "\(label)")
        let difference = zip(original.split(separator: "\n"), restored.split(separator: "\n")).first { $0 != $1 }
        #expect(original == restored, "\(label): pg_dumpall differs, first at: \(String(describing: difference))")
        let properties = (try source.sql(catalogProperties), try copy.sql(catalogProperties))
        #expect(properties.0 == properties.1, "\(label):\n\(properties.0)\n---\n\(properties.1)")
        #expect(try source.sql(settings) == copy.sql(settings), "\(label)")
        // The non-UTF-8 bytes are there and readable (a UTF8 database would refuse them).
        let bytes = "SELECT string_agg(id || ':' || md5(body) || ':' || octet_length(body), ',' ORDER BY id) FROM notes"
        #expect(try source.sql(bytes, database: "legacy") == copy.sql(bytes, database: "legacy"), "\(label)")
        let latin = "SELECT count(*) || ':' || md5(string_agg(convert_to(name, 'LATIN1')::text, ',' ORDER BY id)) FROM names"
        #expect(try source.sql(latin, database: "latin") == copy.sql(latin, database: "latin"), "\(label)")
        // ICU collation orders as German does, as the original did.
        let ordered = "SELECT string_agg(w, ',' ORDER BY w) FROM words"
        #expect(try copy.sql(ordered, database: "icu") == source.sql(ordered, database: "icu"), "\(label)")
        // PUBLIC may not connect to latin; auditor may, and gets its per-database setting.
        let refused = try PostgresConnection.connectError(copy.tcp(user: "outsider", password: "outsider pw", database: "latin"))
        #expect(refused?.contains("permission denied for database") == true, "\(label): \(String(describing: refused))")
        let auditor = try PostgresConnection(copy.tcp(user: "auditor", password: "auditor pw", database: "latin"))
        #expect(try auditor.query("SHOW statement_timeout").first?.first == "5s", "\(label)")
        auditor.close()
    }

    @Test func restoredClusterDumpsAllIdenticallyAndDrillsKeepProperties() throws {
        let sandbox = try Sandbox()
        let source = try Self.source()
        let environment = ["DRCTL_TEST_PG_PASSWORD": source.superuserPassword!]
        let drilled = ["legacy", "latin", "icu", "tmpl"]
        let drillChecks = """
                drill:
                  checks:
                    - sql: "SELECT pg_encoding_to_char(encoding) || ',' || datcollate || ',' || datdba::regrole || ',' || datconnlimit || ',' || shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()"
                      expect: "LATIN1,C,app_owner,5,Latin-1 data, ünïcödé comment"
                      database: latin
                    - sql: "SELECT pg_encoding_to_char(encoding) || ':' || md5(body) FROM pg_database, notes WHERE datname = current_database() AND id = 1"
                      expect: "SQL_ASCII:\(try source.sql("SELECT md5(body) FROM notes WHERE id = 1", database: "legacy"))"
                      database: legacy
                    - sql: "SELECT (SELECT datistemplate::text FROM pg_database WHERE datname = 'tmpl') || ',' || (SELECT string_agg(w, ',' ORDER BY w) FROM words) || ',' || daticulocale FROM pg_database WHERE datname = current_database()"
                      expect: "true,\(try source.sql("SELECT string_agg(w, ',' ORDER BY w) FROM words", database: "icu")),de-DE"
                      database: icu
                    - sql: "SELECT array_to_string(setconfig, ',') FROM pg_db_role_setting WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = 'latin') AND setrole = 'auditor'::regrole"
                      expect: "statement_timeout=5s"
                      database: latin

            """
        try sandbox.writePolicy(targets: [], rawTargets: PostgresFidelityTests.target(source)
                                + PostgresFidelityTests.target(source, name: "drilled", databases: drilled) + drillChecks)
        let backup = try Drctl.run(["backup", "--policy", sandbox.policyPath], environment: environment)
        #expect(backup.status == 0, "\(backup)")

        // Streamed, into a fresh cluster that has the tablespace (elsewhere: the source's
        // directory is the source's).
        let fresh = try PostgresCluster.start(superuserPassword: "other pass")
        try Self.makeTablespace(fresh, "fast")
        let restore = try Drctl.run(["restore", "--policy", sandbox.policyPath, "--target", "db",
                                     "--to", "postgres://postgres@127.0.0.1:\(fresh.port)"],
                                    environment: ["PGPASSWORD": fresh.superuserPassword!])
        #expect(restore.status == 0, "\(restore)")
        try Self.expectSameDatabases(source, fresh, "streamed restore")

        // --jobs: staged, tables loaded while staging, pg_restore --jobs for the rest.
        let parallel = try PostgresCluster.start(superuserPassword: "third pass")
        try Self.makeTablespace(parallel, "fast")
        let staging = "\(sandbox.root)/staging"
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        let jobs = try Drctl.run(["restore", "--policy", sandbox.policyPath, "--target", "db",
                                  "--to", "postgres://postgres@127.0.0.1:\(parallel.port)", "--jobs", "2", "--staging-dir", staging],
                                 environment: ["PGPASSWORD": parallel.superuserPassword!])
        #expect(jobs.status == 0, "\(jobs)")
        try Self.expectSameDatabases(source, parallel, "--jobs restore")

        // A drill into a scratch cluster: its checks read the restored databases' properties.
        let drill = try Drctl.run(["drill", "--policy", sandbox.policyPath, "--target", "drilled", "--json",
                                   "--scratch-dir", "\(sandbox.root)/scratch"], environment: environment)
        #expect(drill.status == 0, "\(drill)")
        let record = ((try? JSONSerialization.jsonObject(with: Data(drill.stdout.utf8))) as? [[String: Any]])?.first ?? [:]
        #expect(record["result"] as? String == "passed", "\(drill)")
        #expect((record["checks"] as? [[String: Any]])?.count ?? 0 >= 4, "\(record)")

        // A drill into a server named in the policy (drill.into): the same, and the databases it
        // created (a template among them) are gone afterwards.
        let into = try PostgresCluster.start(superuserPassword: "into pass")
        try sandbox.writePolicy(targets: [], rawTargets: PostgresFidelityTests.target(source, name: "drilled", databases: drilled)
            + drillChecks.replacingOccurrences(of: "    drill:\n", with: "    drill:\n      into: {host: 127.0.0.1, port: \(into.port), user: postgres, password: {env: DRCTL_TEST_INTO_PASSWORD}}\n"))
        var intoEnvironment = environment
        intoEnvironment["DRCTL_TEST_INTO_PASSWORD"] = "into pass"
        let intoDrill = try Drctl.run(["drill", "--policy", sandbox.policyPath, "--target", "drilled", "--json",
                                       "--scratch-dir", "\(sandbox.root)/scratch"], environment: intoEnvironment)
        #expect(intoDrill.status == 0, "\(intoDrill)")
        #expect(try into.sql("SELECT count(*) FROM pg_database WHERE datname IN ('legacy', 'latin', 'icu', 'tmpl')") == "0")
    }

    /// A database that accepts no connections cannot be dumped (pg_dumpall skips it too): the
    /// backup of every database says so, naming it and the fix, instead of leaving it out silently.
    @Test func aDatabaseThatAcceptsNoConnectionsIsNamedNotSkippedSilently() throws {
        let sandbox = try Sandbox()
        let source = try PostgresCluster.start(superuserPassword: "pg pass 42")
        try source.sql("CREATE DATABASE archived")
        try source.sql("ALTER DATABASE archived ALLOW_CONNECTIONS false")
        try source.sql("CREATE DATABASE live")
        try sandbox.writePolicy(targets: [], rawTargets: PostgresFidelityTests.target(source))
        let backup = try Drctl.run(["backup", "--policy", sandbox.policyPath],
                                   environment: ["DRCTL_TEST_PG_PASSWORD": source.superuserPassword!])
        #expect(backup.status == 0, "\(backup)")
        let warning = backup.stderr.split(separator: "\n").first { $0.contains("WARN") && $0.contains("'archived'") }
        #expect(warning?.contains("accepts no connections") == true && warning?.contains("ALLOW_CONNECTIONS true") == true,
                "\(backup)")
        #expect(!backup.stderr.contains("'live'"), "only the database left out is named: \(backup)")
    }

    /// A locale or tablespace the destination lacks stops the restore before anything is
    /// loaded, naming the database and the property; --locale-map and --tablespace-map say
    /// what to use instead.
    @Test func missingLocaleOrTablespaceStopsBeforeLoadingUnlessMapped() throws {
        // A locale that exists only while the backup is taken (compiled into /usr/lib/locale
        // under a name no one else uses, removed before the restore).
        let locale = "drctltest_\(UUID().uuidString.prefix(6).lowercased()).ISO-8859-1"
        let localePath = "/usr/lib/locale/\(locale)"
        let compiled = try ChildProcess.run(["/usr/bin/localedef", "--no-archive", "-i", "fr_FR", "-f", "ISO-8859-1", localePath])
        try #require(compiled.exit.succeeded, "localedef: \(compiled.stderr)")
        defer { try? FileManager.default.removeItem(atPath: localePath) }

        let sandbox = try Sandbox()
        let source = try PostgresCluster.start(superuserPassword: "pg pass 42")
        try Self.makeTablespace(source, "fast")
        try source.sql("CREATE DATABASE french WITH TEMPLATE template0 ENCODING 'LATIN1' LOCALE '\(locale)'")
        try source.sql("CREATE TABLE mots AS SELECT 'élève ' || i AS mot FROM generate_series(1, 100) i", database: "french")
        try source.sql("CREATE DATABASE spaced TABLESPACE fast")
        try source.sql("CREATE TABLE r AS SELECT generate_series(1, 100) AS i", database: "spaced")
        try source.sql("CREATE DATABASE objects")
        try source.sql("CREATE TABLE placed (i int) TABLESPACE fast", database: "objects")
        try sandbox.writePolicy(targets: [], rawTargets: PostgresFidelityTests.target(source, name: "moved", databases: ["french", "spaced"])
                                + PostgresFidelityTests.target(source, name: "objs", databases: ["objects"]))
        let backup = try Drctl.run(["backup", "--policy", sandbox.policyPath],
                                   environment: ["DRCTL_TEST_PG_PASSWORD": source.superuserPassword!])
        #expect(backup.status == 0, "\(backup)")
        try FileManager.default.removeItem(atPath: localePath)

        // The destination lacks the tablespace (the globals cannot create it: its directory is
        // the source's) and the locale.
        let fresh = try PostgresCluster.start(superuserPassword: "other pass")
        let url = "postgres://postgres@127.0.0.1:\(fresh.port)"
        let password = ["PGPASSWORD": fresh.superuserPassword!]
        let databases = "SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database WHERE datname IN ('french', 'spaced', 'objects')"
        let stopped = try Drctl.run(["restore", "--policy", sandbox.policyPath, "--target", "moved", "--to", url], environment: password)
        #expect(stopped.status == 1, "\(stopped)")
        #expect(stopped.stderr.contains("database 'french'") && stopped.stderr.contains(locale)
                && stopped.stderr.contains("Nothing was loaded") && stopped.stderr.contains("--locale-map"), "\(stopped)")
        #expect(try fresh.sql(databases) == "", "nothing is created when a property cannot be honoured")

        let stillStopped = try Drctl.run(["restore", "--policy", sandbox.policyPath, "--target", "moved", "--to", url,
                                          "--locale-map", "\(locale)=C"], environment: password)
        #expect(stillStopped.status == 1, "\(stillStopped)")
        #expect(stillStopped.stderr.contains("database 'spaced'") && stillStopped.stderr.contains("tablespace 'fast' does not exist")
                && stillStopped.stderr.contains("--tablespace-map fast=pg_default"), "\(stillStopped)")
        #expect(try fresh.sql(databases) == "")

        let mapped = try Drctl.run(["restore", "--policy", sandbox.policyPath, "--target", "moved", "--to", url,
                                    "--locale-map", "\(locale)=C", "--tablespace-map", "fast=pg_default"], environment: password)
        #expect(mapped.status == 0, "\(mapped)")
        #expect(try fresh.sql("SELECT string_agg(datname || ':' || pg_encoding_to_char(encoding) || ':' || datcollate || ':' || spcname, ',' ORDER BY datname) FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE datname IN ('french', 'spaced')")
                == "french:LATIN1:C:pg_default,spaced:UTF8:C:pg_default")
        #expect(try fresh.sql("SELECT count(*) FROM mots WHERE mot LIKE 'élève %'", database: "french") == "100")
        #expect(try fresh.sql("SELECT count(*) FROM r", database: "spaced") == "100")

        // An object (not the database) in a missing tablespace: named, nothing loaded.
        let objects = try Drctl.run(["restore", "--policy", sandbox.policyPath, "--target", "objs", "--to", url,
                                     "--tablespace-map", "fast=pg_default"], environment: password)
        #expect(objects.status == 1, "\(objects)")
        #expect(objects.stderr.contains("database 'objects'") && objects.stderr.contains("1 of its objects are in tablespace 'fast'"), "\(objects)")
        #expect(try fresh.sql("SELECT count(*) FROM pg_database WHERE datname = 'objects'") == "0")
    }
}

extension PostgresConnection {
    /// The error a login gets, or nil if it succeeds.
    static func connectError(_ endpoint: PostgresEndpoint) throws -> String? {
        do {
            let connection = try PostgresConnection(endpoint)
            connection.close()
            return nil
        } catch {
            return "\(error)"
        }
    }
}
