import Foundation
import Testing
import DrctlJobs
import DrctlSources
import DrctlStorage
import DrctlTestSupport

/// The jobs in-process against real servers: a PostgreSQL logical backup restored into a fresh
/// cluster, a Redis backup's recorded keyspace, and a PostgreSQL backup stopped while pg_dump runs.
@Suite struct DatabaseJobTests {
    /// Target `t` of kind postgres on `pg` as its superuser over TCP (password from a file
    /// under the scratch root), of database `shop` only.
    static func postgresTarget(_ pg: PostgresCluster) -> (String) -> String {
        { root in
            """
                kind: postgres
                connection: {host: 127.0.0.1, port: \(pg.port), user: postgres, password: {file: \(root)/pg-password}, databases: [shop]}
            """
        }
    }

    static func seedShop(_ pg: PostgresCluster) throws {
        try pg.sql("CREATE DATABASE shop")
        try pg.sql("""
            CREATE TABLE items (id bigint PRIMARY KEY, note text NOT NULL, price numeric(10, 2));
            INSERT INTO items SELECT i, md5(i::text) || ' üñíçødé', i * 1.25 FROM generate_series(1, 5000) i;
            CREATE SEQUENCE orders_seq START 100;
            SELECT setval('orders_seq', 4242);
            CREATE VIEW cheap AS SELECT id FROM items WHERE price < 10;
            """, database: "shop")
    }

    /// BackupJob of a postgres target, then RestoreJob into a fresh cluster: pg_dump of the
    /// restored database is the original's, and the manifest counted every row.
    @Test func aPostgresBackupRestoresIntoAFreshClusterAsTheOriginalDumps() async throws {
        let source = try PostgresCluster.start(superuserPassword: "source pw")
        try Self.seedShop(source)
        let scratch = try ScratchRepository(target: Self.postgresTarget(source))
        try scratch.writeSecret("pg-password", source.superuserPassword!)

        let manifest = try await scratch.runner.run(BackupJob(target: scratch.target))
        #expect(manifest.kind == "postgres" && manifest.status == .complete)
        #expect(manifest.objects.compactMap(\.database) == ["shop"], "\(manifest.objects.map(\.name))")
        #expect(manifest.source.databases == ["shop"])
        let items = manifest.source.tables?.first { $0.database == "shop" && $0.table == "items" }
        #expect(items?.rows == 5000 && items?.estimated == false, "\(String(describing: manifest.source.tables))")

        let fresh = try PostgresCluster.start(superuserPassword: "fresh pw")
        let outcome = try await scratch.runner.run(RestoreJob(
            target: scratch.target, backupID: manifest.backupID,
            destination: "postgres://postgres:fresh%20pw@127.0.0.1:\(fresh.port)", force: false, preferredRegion: nil))
        #expect(outcome.manifest.backupID == manifest.backupID)
        let original = try source.comparableDump(of: "shop")
        #expect(original.contains("PostgreSQL database dump complete"))
        #expect(try fresh.comparableDump(of: "shop") == original)
    }

    /// BackupJob of a Redis target: the manifest's keyspace is what the server holds (`DBSIZE`
    /// of each database), and the object is the RDB.
    @Test func aRedisBackupRecordsTheServersKeyspace() async throws {
        let redis = try RedisServer(password: "redis pw")
        try redis.seedEveryType(groups: 20)
        try redis.cli(["SET", "elsewhere", "v"], db: 3)
        let scratch = try ScratchRepository(target: { root in
            """
                kind: redis
                connection: {host: 127.0.0.1, port: \(redis.port), password: {file: \(root)/redis-password}}
            """
        })
        try scratch.writeSecret("redis-password", redis.password!)

        let manifest = try await scratch.runner.run(BackupJob(target: scratch.target))
        #expect(manifest.kind == "redis" && manifest.objects.map(\.name) == ["dump.rdb"])
        let expected = ["0": Int(try redis.cli("DBSIZE"))!, "3": Int(try redis.cli(["DBSIZE"], db: 3))!]
        #expect(expected["0"]! > 100 && expected["3"] == 1)
        #expect(manifest.source.keyspace == expected)
    }

    /// A signal while pg_dump runs (it waits for a table lock another session holds) stops the
    /// backup: `interrupted`, no manifest and no data object, and the failure record says why.
    @Test func anInterruptedPostgresBackupLeavesNoManifest() async throws {
        let source = try PostgresCluster.start(superuserPassword: "source pw")
        try Self.seedShop(source)
        let scratch = try ScratchRepository(target: Self.postgresTarget(source))
        try scratch.writeSecret("pg-password", source.superuserPassword!)
        let holder = try PostgresConnection(source.superuser(database: "shop"))
        defer { holder.close() }
        try holder.query("BEGIN")
        try holder.query("LOCK TABLE items IN ACCESS EXCLUSIVE MODE")

        let (runner, target) = (scratch.runner, scratch.target)
        let backup = Task { try await runner.run(BackupJob(target: target)) }
        // pg_dump is running once it waits for the lock (a handshake, not a guess at a time).
        while try source.sql("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'items'::regclass",
                             database: "shop") == "0" {
            try await Task.sleep(for: .milliseconds(20))
        }
        scratch.interruption.interrupt(signal: "SIGTERM")

        let result = await backup.result
        try holder.query("ROLLBACK")
        try scratch.expectInterruptedBySIGTERM(result)
    }
}
