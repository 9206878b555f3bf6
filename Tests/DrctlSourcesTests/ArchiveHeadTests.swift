import Foundation
import Testing
import DrctlPipeline
import DrctlSources
import DrctlTestSupport

/// The head of a real `pg_dump -Fc` archive: the DATABASE entry's `CREATE DATABASE` read into
/// its clauses (a name that needs quoting, an encoding, LC_COLLATE and LC_CTYPE apart) and
/// written back so the server creates the same database; the database-level entries listed.
@Suite struct ArchiveHeadTests {
    @Test func createDatabaseReadFromARealArchiveMakesTheSameDatabase() throws {
        try PostgresCluster.with { cluster in
            let name = #"Odd "Name" é"#
            try cluster.sql(#"CREATE DATABASE "Odd ""Name"" é" WITH TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C.utf8'"#)
            try cluster.sql(#"COMMENT ON DATABASE "Odd ""Name"" é" IS 'it''s odd'"#)
            try cluster.sql("CREATE TABLE t AS SELECT generate_series(1, 20000) AS i", database: name)
            let dump = try ChildProcess.output(of: ["\(PostgresCluster.binDir)/pg_dump", "-Fc", "-Z0", "-h", cluster.dir.path,
                                                    "-p", "\(cluster.port)", "-U", "postgres", "-d", name])
            try #require(dump.exit.succeeded, "\(dump.stderr)")

            // Fed in small pieces, it stops as soon as the table of contents is in.
            let head = ArchiveHead()
            var fed = 0
            var completed = false
            while fed < dump.stdout.count && !completed {
                let piece = Array(dump.stdout[fed..<min(fed + 100, dump.stdout.count)])
                do {
                    try piece.withUnsafeBytes { try head.write($0) }
                } catch is ArchiveHead.Complete {
                    completed = true
                }
                fed += piece.count
            }
            #expect(completed && fed < dump.stdout.count / 2, "the head is a small prefix: \(fed) of \(dump.stdout.count)")
            #expect(head.bytes == Array(dump.stdout.prefix(head.bytes.count)))
            #expect(head.owner == "postgres")
            let descs = head.entries.filter(\.isDatabaseLevel).map(\.desc).sorted()
            #expect(descs == ["COMMENT", "DATABASE"], "\(descs)")

            let definition = try head.definition(of: name)
            #expect(definition.value("ENCODING") == "UTF8")
            #expect(definition.value("LC_COLLATE") == "C" && definition.value("LC_CTYPE") == "C.utf8", "\(definition)")
            #expect(definition.tablespace == nil)

            // Written back under another name, the server makes the same database; mapped, the
            // locale is replaced and nothing else.
            let describe = "SELECT pg_encoding_to_char(encoding) || ',' || datcollate || ',' || datctype FROM pg_database WHERE datname = $1"
            let admin = try PostgresConnection(cluster.superuser())
            defer { admin.close() }
            try admin.query(definition.statement(as: #"copy "1""#))
            #expect(try admin.query(describe, [#"copy "1""#]) == admin.query(describe, [name]))
            try admin.query(definition.mapped(locales: ["C.utf8": "C"], tablespaces: [:]).statement(as: "copy2"))
            #expect(try admin.query(describe, ["copy2"]).first?.first == "UTF8,C,C")
        }
    }

    @Test func somethingElseIsNotAnArchive() throws {
        let head = ArchiveHead()
        let junk = Array("not an archive at all, just text".utf8)
        #expect(throws: ArchiveHead.Failure.self) { try junk.withUnsafeBytes { try head.write($0) } }
        #expect(throws: DatabaseDefinition.Failure.self) { try DatabaseDefinition(parsing: "DROP DATABASE x;", name: "x") }
    }
}
