import Foundation
import Testing
import DrctlSources
import DrctlTestSupport

/// Row counts read from real `pg_dump -Fc -Z0` archives equal count(*) on the server, however
/// the stream is cut into pieces.
@Suite struct CustomArchiveRowCounterTests {
    static func seededArchive() throws -> (archive: [UInt8], expected: [CustomArchiveRowCounter.Table]) {
        try PostgresCluster.with { cluster in
            try cluster.sql("CREATE DATABASE shop")
            try cluster.sql(#"""
                CREATE SCHEMA "Sales Dept";
                CREATE TABLE "Sales Dept"."Order ""Items""" (id int, note text);
                INSERT INTO "Sales Dept"."Order ""Items""" VALUES (1, E'two\nlines'), (2, E'\\.'), (3, ''), (4, NULL), (5, E'back\\slash');
                CREATE TABLE empty (id int);
                CREATE TABLE nothing ();
                INSERT INTO nothing DEFAULT VALUES; INSERT INTO nothing DEFAULT VALUES;
                CREATE TABLE big AS SELECT i, md5(i::text) AS v FROM generate_series(1, 54321) i;
                CREATE TABLE parted (id int, region text) PARTITION BY LIST (region);
                CREATE TABLE parted_eu PARTITION OF parted FOR VALUES IN ('eu');
                CREATE TABLE parted_us PARTITION OF parted FOR VALUES IN ('us');
                INSERT INTO parted SELECT i, CASE WHEN i % 3 = 0 THEN 'eu' ELSE 'us' END FROM generate_series(1, 999) i;
                CREATE MATERIALIZED VIEW summary AS SELECT count(*) FROM big;
                SELECT lo_from_bytea(0, convert_to(repeat('lob', 50000), 'UTF8'));
                """#, database: "shop")
            let dump = try cluster.client(["\(PostgresCluster.binDir)/pg_dump", "--format=custom", "--compress=0",
                                           "--file=\(cluster.dir.path)/shop.dump", "-d", "shop"])
            guard dump.exit.succeeded else { throw TestFailure("pg_dump: \(dump.stderr)") }
            let archive = try [UInt8](Data(contentsOf: cluster.dir.appendingPathComponent("shop.dump")))
            let expected: [CustomArchiveRowCounter.Table] = [
                .init(schema: "Sales Dept", table: "Order \"Items\"", rows: 5),
                .init(schema: "public", table: "big", rows: 54321),
                .init(schema: "public", table: "empty", rows: 0),
                .init(schema: "public", table: "nothing", rows: 2),
                .init(schema: "public", table: "parted_eu", rows: 333),
                .init(schema: "public", table: "parted_us", rows: 666),
            ]
            return (archive, expected)
        }
    }

    static let seeded = Result { try seededArchive() }

    func count(_ archive: [UInt8], pieces: (Int) -> Int) -> CustomArchiveRowCounter {
        let counter = CustomArchiveRowCounter()
        var offset = 0
        var step = 0
        archive.withUnsafeBytes { bytes in
            while offset < bytes.count {
                let size = min(max(1, pieces(step)), bytes.count - offset)
                counter.consume(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + size]))
                offset += size
                step += 1
            }
        }
        return counter
    }

    @Test(arguments: [1 << 20, 65_536, 4_093, 7])
    func countsEqualTheServers(piece: Int) throws {
        let (archive, expected) = try Self.seeded.get()
        let counter = count(archive) { step in piece == 7 ? 1 + step % 13 : piece }
        #expect(counter.failure == nil)
        #expect(counter.tables.sorted { ($0.schema, $0.table) < ($1.schema, $1.table) } == expected)
    }

    @Test func refusesWhatItCannotRead() throws {
        let (archive, _) = try Self.seeded.get()
        var newer = archive
        newer[6] = 99   // minor version
        #expect(count(newer) { _ in 4096 }.failure == .unsupportedVersion("1.99.0"))
        #expect(count(Array("-- PostgreSQL database dump".utf8)) { _ in 100 }.failure == .notAnArchive)
        let truncated = count(Array(archive.prefix(40))) { _ in 100 }
        #expect(truncated.failure == nil && truncated.tables.isEmpty)
    }
}
