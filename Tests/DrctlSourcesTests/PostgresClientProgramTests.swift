import Foundation
import Testing
@testable import DrctlSources

/// Debian's pg_wrapper is skipped for the newest installed version's binary, unless PGCLUSTER
/// asks the wrapper to choose; any other program on PATH is used as found.
@Suite struct PostgresClientProgramTests {
    func executable(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try "#!/bin/sh\n".write(toFile: path, atomically: true, encoding: .utf8)
        _ = chmod(path, 0o755)
    }

    @Test func skipsDebiansWrapperForTheNewestVersion() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("client-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try executable("\(root)/share/postgresql-common/pg_wrapper")
        for version in ["9.6", "13", "15"] { try executable("\(root)/lib/postgresql/\(version)/bin/pg_dump") }
        try executable("\(root)/lib/postgresql/16/bin/psql")   // a newer version without pg_dump
        try FileManager.default.createDirectory(atPath: "\(root)/bin", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: "\(root)/bin/pg_dump",
                                                   withDestinationPath: "../share/postgresql-common/pg_wrapper")
        try executable("\(root)/local/pg_restore")
        let versions = "\(root)/lib/postgresql"
        let path = "\(root)/local:\(root)/bin"

        #expect(try PostgresClientProgram.path("pg_dump", environment: ["PATH": path], versionsDirectory: versions)
                == "\(versions)/15/bin/pg_dump")
        #expect(try PostgresClientProgram.path("pg_dump", environment: ["PATH": path, "PGCLUSTER": "13/main"],
                                               versionsDirectory: versions) == "\(root)/bin/pg_dump")
        #expect(try PostgresClientProgram.path("pg_restore", environment: ["PATH": path], versionsDirectory: versions)
                == "\(root)/local/pg_restore")
        #expect(throws: SourceError.self) {
            try PostgresClientProgram.path("pg_dumpall", environment: ["PATH": path], versionsDirectory: versions)
        }
    }
}
