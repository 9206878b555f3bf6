import Foundation
import Testing
import DrctlTestSupport

/// `restore --jobs N`: drctl loads the tables itself while the archive is staged. What the
/// destination refuses (a row, the schema) stops the restore with the table or step and the
/// server's reason; no other region's copy is tried, and the staging directory is emptied.
@Suite struct ParallelRestoreTests {
    /// A backup of database `shop` (table `orders`, 50,000 rows) in `regions`.
    func backedUpShop(_ sandbox: Sandbox, regions: [(String, String)]? = nil) throws {
        let source = try PostgresCluster.start(superuserPassword: "pg pass 42")
        try source.sql("CREATE DATABASE shop")
        try source.sql("""
            CREATE TABLE orders (id int PRIMARY KEY, note text);
            INSERT INTO orders SELECT i, md5(i::text) FROM generate_series(1, 50000) i;
            """, database: "shop")
        try sandbox.writePolicy(targets: [], regions: regions, rawTargets: PostgresFidelityTests.target(source))
        let backup = try Drctl.run(["backup", "--policy", sandbox.policyPath],
                                   environment: ["DRCTL_TEST_PG_PASSWORD": source.superuserPassword!])
        #expect(backup.status == 0, "\(backup)")
    }

    /// Runs `sql` in the destination's template0, which restored databases are created from
    /// (it accepts connections only meanwhile).
    func inTemplate0(_ cluster: PostgresCluster, _ sql: String) throws {
        try cluster.sql("ALTER DATABASE template0 ALLOW_CONNECTIONS true")
        try cluster.sql(sql, database: "template0")
        try cluster.sql("ALTER DATABASE template0 ALLOW_CONNECTIONS false")
    }

    func restoreWithJobs(_ sandbox: Sandbox, into destination: PostgresCluster, staging: String) throws -> Drctl.Result {
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        return try Drctl.run(["restore", "--policy", sandbox.policyPath, "--target", "db",
                              "--to", "postgres://postgres@127.0.0.1:\(destination.port)",
                              "--jobs", "2", "--staging-dir", staging],
                             environment: ["PGPASSWORD": destination.superuserPassword!])
    }

    @Test func refusedRowStopsTheRestore() throws {
        let sandbox = try Sandbox()
        try backedUpShop(sandbox)

        // Every table created in a database made from template0 (restored databases are, as
        // pg_dump's CREATE DATABASE asks) refuses every row.
        let destination = try PostgresCluster.start(superuserPassword: "other pass")
        try inTemplate0(destination, """
            CREATE FUNCTION refuse_rows() RETURNS event_trigger LANGUAGE plpgsql AS $$
            DECLARE created record;
            BEGIN
              FOR created IN SELECT object_identity FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE TABLE' LOOP
                EXECUTE format('ALTER TABLE %s ADD CONSTRAINT no_rows CHECK (false) NOT VALID', created.object_identity);
              END LOOP;
            END $$;
            CREATE EVENT TRIGGER refuse_rows ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION refuse_rows();
            """)
        let staging = "\(sandbox.root)/staging"
        let restore = try restoreWithJobs(sandbox, into: destination, staging: staging)
        #expect(restore.status == 1, "\(restore)")
        #expect(restore.stderr.contains("loading the data of table public.orders into database shop failed"), "\(restore)")
        #expect(restore.stderr.contains("violates check constraint \"no_rows\""), "\(restore)")
        #expect(!restore.stderr.contains("database=shop tables="), "\(restore)")
        // The destination refused it: no other region's copy is tried.
        #expect(!restore.stderr.contains("in every region"), "\(restore)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: staging).isEmpty)
        #expect(try destination.sql("SELECT count(*) FROM orders", database: "shop") == "0")
    }

    /// pre-data fails while the archive still streams (the stream's end waits for it), so the
    /// failure passes through the region loop: with two regions, the second is not tried.
    @Test func refusedSchemaTriesNoOtherRegion() throws {
        let sandbox = try Sandbox()
        try backedUpShop(sandbox, regions: [("r1", "\(sandbox.root)/r1"), ("r2", "\(sandbox.root)/r2")])

        // A table of the same name in template0: pre-data's CREATE TABLE fails.
        let destination = try PostgresCluster.start(superuserPassword: "other pass")
        try inTemplate0(destination, "CREATE TABLE orders (id int)")
        let staging = "\(sandbox.root)/staging"
        let restore = try restoreWithJobs(sandbox, into: destination, staging: staging)
        #expect(restore.status == 1, "\(restore)")
        #expect(restore.stderr.contains("creating the schema of database shop (pg_restore --section=pre-data) failed"), "\(restore)")
        #expect(restore.stderr.contains("already exists"), "\(restore)")
        #expect(!restore.stderr.contains("trying the next") && !restore.stderr.contains("recreating the partially restored"),
                "\(restore)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: staging).isEmpty)
    }
}
