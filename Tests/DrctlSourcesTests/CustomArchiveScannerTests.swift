import Foundation
import Testing
import DrctlSources
import DrctlTestSupport

/// Row counts read from real `pg_dump -Fc -Z0` archives equal count(*) on the server, however
/// the stream is cut into pieces.
@Suite struct CustomArchiveScannerTests {
    /// The same database dumped to a file (`archive`) and through a pipe (`piped`, as drctl
    /// dumps), and its row counts.
    static func seededArchive() throws -> (archive: [UInt8], expected: [CustomArchiveScanner.Table], piped: [UInt8]) {
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
            // "$0" "$@": pg_dump and its arguments, the connection options appended by client().
            let piped = try cluster.client(["/bin/sh", "-c", "\"$0\" \"$@\" | cat > '\(cluster.dir.path)/piped.dump'",
                                            "\(PostgresCluster.binDir)/pg_dump", "--format=custom", "--compress=0", "-d", "shop"])
            guard piped.exit.succeeded else { throw TestFailure("pg_dump | cat: \(piped.stderr)") }
            let pipedArchive = try [UInt8](Data(contentsOf: cluster.dir.appendingPathComponent("piped.dump")))
            let expected: [CustomArchiveScanner.Table] = [
                .init(schema: "Sales Dept", table: "Order \"Items\"", rows: 5),
                .init(schema: "public", table: "big", rows: 54321),
                .init(schema: "public", table: "empty", rows: 0),
                .init(schema: "public", table: "nothing", rows: 2),
                .init(schema: "public", table: "parted_eu", rows: 333),
                .init(schema: "public", table: "parted_us", rows: 666),
            ]
            return (archive, expected, pipedArchive)
        }
    }

    static let seeded = Result { try seededArchive() }

    func count(_ archive: [UInt8], pieces: (Int) -> Int) -> CustomArchiveScanner {
        let counter = CustomArchiveScanner()
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
        let (archive, expected, _) = try Self.seeded.get()
        let counter = count(archive) { step in piece == 7 ? 1 + step % 13 : piece }
        #expect(counter.failure == nil)
        #expect(counter.tables.sorted { ($0.schema, $0.table) < ($1.schema, $1.table) } == expected)
    }

    @Test func refusesWhatItCannotRead() throws {
        let (archive, _, _) = try Self.seeded.get()
        var newer = archive
        newer[6] = 99   // minor version
        #expect(count(newer) { _ in 4096 }.failure == .unsupportedVersion("1.99.0"))
        #expect(count(Array("-- PostgreSQL database dump".utf8)) { _ in 100 }.failure == .notAnArchive)
        let truncated = count(Array(archive.prefix(40))) { _ in 100 }
        #expect(truncated.failure == nil && truncated.tables.isEmpty)
    }

    /// pg_dump writes each data block's position into a file's table of contents, but cannot
    /// into a pipe; the counter's patches put back exactly the bytes pg_dump writes to a file.
    @Test func offsetPatchesGiveAPipedArchiveWhatAFileHas() throws {
        let (file, _, piped) = try Self.seeded.get()
        #expect(count(file) { _ in 65_536 }.offsetPatches.isEmpty, "an archive written to a file has its offsets")
        let counter = count(piped) { step in 1 + step % 4_093 }
        #expect(counter.failure == nil)
        let patches = counter.offsetPatches
        #expect(patches.count >= 7, "every table's data and the large objects: \(patches.count)")
        var patched = piped
        for patch in patches { patched.replaceSubrange(patch.position..<patch.position + patch.bytes.count, with: patch.bytes) }
        try #require(patched.count == file.count)
        // Equal to the file's archive but for the header's creation time (7 integers of 5 bytes).
        let differing = zip(patched, file).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
        #expect(differing.allSatisfy { (12..<48).contains($0) }, "bytes differ at \(differing.prefix(10))")
        // Cut short, only the blocks seen so far get theirs.
        #expect(count(Array(piped.prefix(piped.count / 2))) { _ in 4_096 }.offsetPatches.count < patches.count)
    }
}
