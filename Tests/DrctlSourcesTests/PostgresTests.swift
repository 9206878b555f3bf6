import DrctlSources
import DrctlTestSupport
import Foundation
import Testing

/// libpq wrapper and pre-flight against real throwaway clusters (scripts/pg-cluster.sh).
@Suite struct PostgresTests {
    @Test func factsOfASeededCluster() throws {
        try PostgresCluster.with { cluster in
            try cluster.seedBackupRole(password: "facts-pw")
            try cluster.exec(["CREATE DATABASE shop", "CREATE DATABASE crm", "CREATE DATABASE tmpl IS_TEMPLATE true"])
            try cluster.exec([
                "CREATE TABLE orders (id int)",
                "INSERT INTO orders SELECT generate_series(1, 3)",
                "CREATE SCHEMA \"Sales Dept\"",
                "CREATE TABLE \"Sales Dept\".\"Order \"\"Items\"\"\" (id int)",
                "INSERT INTO \"Sales Dept\".\"Order \"\"Items\"\"\" SELECT generate_series(1, 5)",
                "CREATE TABLE events (id int)",
                "INSERT INTO events SELECT generate_series(1, 2000)",
                "ANALYZE events",
                "CREATE VIEW v AS SELECT * FROM orders",
                "CREATE TEMP TABLE scratch (id int)",
            ], database: "shop")
            try cluster.exec([
                "CREATE TABLE contacts (id int)",
                "INSERT INTO contacts SELECT generate_series(1, 7)",
                "CREATE TABLE empty (id int)",
            ], database: "crm")

            let before = Date()
            let facts = try PostgresPreflight.gather(cluster.superuser(), databases: [])
            #expect(facts.serverVersionNumber >= 150000)
            #expect(facts.serverVersion == "\(facts.serverVersionNumber / 10000).\(facts.serverVersionNumber % 10000)")
            #expect(facts.inRecovery == false)
            // A template made by a user is covered, as pg_dumpall covers it; template1 is not.
            #expect(facts.databases == ["crm", "postgres", "shop", "tmpl"])
            #expect(facts.consistentLSN.contains("/"))
            #expect(facts.timeline == 1)
            #expect(abs(facts.capturedAt.timeIntervalSince(before)) < 60)

            // The same through the unprivileged backup role over TCP, one database.
            let shop = try PostgresPreflight.gather(cluster.tcp(user: "backup", password: "facts-pw"), databases: ["shop"])
            #expect(shop.databases == ["shop"])
            #expect(shop.timeline == 1)

            // Codable round trip, as stored in a manifest.
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            let back = try decoder.decode(PostgresFacts.self, from: encoder.encode(shop))
            #expect(back.consistentLSN == shop.consistentLSN && back.databases == shop.databases)

            // A selected database that does not exist.
            let error = #expect(throws: PostgresError.self) {
                try PostgresPreflight.gather(cluster.superuser(), databases: ["shop", "nope"])
            }
            #expect(error?.kind == .databaseDoesNotExist)
            #expect(error?.description.contains("\"nope\"") == true)
        }
    }

    @Test func wrongPasswordNamesTheUser() throws {
        try PostgresCluster.with { cluster in
            try cluster.seedBackupRole(password: "right-pw")
            let ok = try PostgresConnection(cluster.tcp(user: "backup", password: "right-pw"))
            #expect(try ok.query("SELECT current_user") == [["backup"]])
            ok.close()

            let error = #expect(throws: PostgresError.self) {
                try PostgresConnection(cluster.tcp(user: "backup", password: "wrong-pw"))
            }
            #expect(error?.kind == .authenticationFailed)
            #expect(error?.description.contains("user \"backup\"") == true)
            #expect(error?.description.contains("password") == true)

            let none = #expect(throws: PostgresError.self) {
                try PostgresConnection(cluster.tcp(user: "backup", password: nil))
            }
            #expect(none?.kind == .authenticationFailed)
        }
    }

    @Test func connectionRefusedNamesTheAddress() throws {
        let port = try unusedPort()
        let error = #expect(throws: PostgresError.self) {
            try PostgresConnection(PostgresEndpoint(host: "127.0.0.1", port: port, user: "backup",
                                                    password: "pw", sslmode: "disable", connectTimeout: 5))
        }
        #expect(error?.kind == .unreachable)
        #expect(error?.description.contains("127.0.0.1:\(port)") == true)
        #expect(error?.description.contains("connection refused") == true)
    }

    @Test func missingDatabase() throws {
        try PostgresCluster.with { cluster in
            try cluster.seedBackupRole(password: "pw")
            for endpoint in [cluster.superuser(database: "no_such_db"),
                             cluster.tcp(user: "backup", password: "pw", database: "no_such_db")] {
                let error = #expect(throws: PostgresError.self) { try PostgresConnection(endpoint) }
                #expect(error?.kind == .databaseDoesNotExist)
                #expect(error?.description.contains("\"no_such_db\" does not exist") == true)
            }
        }
    }

    @Test func queriesWithParametersAndFailures() throws {
        try PostgresCluster.with { cluster in
            let db = try PostgresConnection(cluster.superuser())
            defer { db.close() }
            #expect(try db.query("SELECT $1::int + $2::int, $3::text IS NULL, upper($4), $5::text, NULL::text",
                                 ["2", "3", nil, "hello 'x'", "héllo; DROP TABLE x; --"])
                    == [["5", "t", "HELLO 'X'", "héllo; DROP TABLE x; --", nil]])
            #expect(try db.query("SELECT g FROM generate_series(1, 3) g WHERE g > $1", ["1"]) == [["2"], ["3"]])
            #expect(try db.query("CREATE TABLE secret (id int)") == [])

            let missing = #expect(throws: PostgresError.self) { try db.query("SELECT * FROM no_such_table") }
            #expect(missing?.kind == .queryFailed)
            #expect(missing?.sqlState == "42P01")
            #expect(missing?.description.contains("SQLSTATE 42P01") == true)

            // Permission denied, and the pre-flight names the table.
            try db.query("CREATE ROLE nobody LOGIN PASSWORD 'nobody-pw'")
            let nobody = try PostgresConnection(cluster.tcp(user: "nobody", password: "nobody-pw"))
            defer { nobody.close() }
            let denied = #expect(throws: PostgresError.self) { try nobody.query("SELECT * FROM secret") }
            #expect(denied?.kind == .permissionDenied)
            #expect(denied?.sqlState == "42501")

            let preflight = #expect(throws: PostgresError.self) {
                try PostgresPreflight.gather(cluster.tcp(user: "nobody", password: "nobody-pw"),
                                             databases: ["postgres"])
            }
            #expect(preflight?.kind == .permissionDenied)
            #expect(preflight?.description.contains("secret") == true)
        }
    }

    @Test func thePasswordNeverAppearsInErrors() throws {
        let secret = "Pa55-\(UUID().uuidString)"
        try PostgresCluster.with { cluster in
            try cluster.seedBackupRole(password: secret)
            var texts: [String] = []
            func record(_ body: () throws -> Void) {
                do { try body() } catch {
                    texts += [String(describing: error), String(reflecting: error), "\(error)"]
                    var dumped = ""
                    dump(error, to: &dumped)
                    texts.append(dumped)
                }
            }
            let port = (try? unusedPort()) ?? 1
            record { _ = try PostgresConnection(cluster.tcp(user: "backup", password: secret + "x")) }
            record { _ = try PostgresConnection(cluster.tcp(user: "ghost", password: secret)) }
            record { _ = try PostgresConnection(cluster.tcp(user: "backup", password: secret, database: "nope")) }
            record { _ = try PostgresConnection(PostgresEndpoint(host: "127.0.0.1", port: port, user: "backup", password: secret)) }
            record { _ = try PostgresConnection(PostgresEndpoint(host: "no-such-host.invalid", port: 5432, user: "backup", password: secret, connectTimeout: 2)) }
            record { _ = try PostgresPreflight.gather(cluster.tcp(user: "backup", password: secret), databases: ["nope"]) }
            record {
                let c = try PostgresConnection(cluster.tcp(user: "backup", password: secret))
                try c.query("SELECT \(secret)")
            }
            #expect(texts.count >= 7 * 4)
            for text in texts {
                #expect(!text.contains(secret), "password leaked: \(text)")
            }

            // Nor in an endpoint's textual or reflected forms.
            let endpoint = cluster.tcp(user: "backup", password: secret)
            var dumped = ""
            dump(endpoint, to: &dumped)
            for text in ["\(endpoint)", String(reflecting: endpoint), dumped] {
                #expect(!text.contains(secret), "password leaked: \(text)")
            }
        }
    }

    @Test func pgDumpVersionCheck() throws {
        let installed = PostgresCluster.binDir + "/pg_dump"
        let version = try checkPgDumpVersion(pgDumpPath: installed, serverVersionNumber: 150020)
        #expect(version.hasPrefix("1"))
        try checkPgDumpVersion(pgDumpPath: installed, serverVersionNumber: 90624)   // newer pg_dump: fine

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-pgdump-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let fake = dir.appendingPathComponent("pg_dump").path
        try "#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.0'\n".write(toFile: fake, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake)

        let old = #expect(throws: PostgresError.self) {
            try checkPgDumpVersion(pgDumpPath: fake, serverVersionNumber: 150020)
        }
        #expect(old?.kind == .pgDumpTooOld)
        #expect(old?.description.contains("9.6.0") == true)
        #expect(old?.description.contains("15.20") == true)
        #expect(try checkPgDumpVersion(pgDumpPath: fake, serverVersionNumber: 90624) == "9.6.0")

        let missing = #expect(throws: PostgresError.self) {
            try checkPgDumpVersion(pgDumpPath: dir.appendingPathComponent("absent").path, serverVersionNumber: 150020)
        }
        #expect(missing?.kind == .pgDumpUnusable)
    }
}

/// A loopback TCP port nothing listens on: bind to port 0, read the port, close.
func unusedPort() throws -> Int {
    try LoopbackPort.free()
}
