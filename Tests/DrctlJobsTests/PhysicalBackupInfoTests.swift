import Testing
@testable import DrctlSources
import DrctlStorage
@testable import DrctlJobs

/// The manifest's `physical` object as a base backup builds it from what the server answered
/// (`PostgresPhysicalPlan.physicalInfo`): the WAL range it waits for, and answers no PostgreSQL
/// 15 server gives refused by name, not trusted blindly.
@Suite struct PhysicalBackupInfoTests {
    static let server = BaseBackupSession.Server(systemIdentifier: "7412345678901234567", timeline: 1, versionNumber: 150_004,
                                                 walSegmentSize: 16 << 20)

    static func info(start: String = "0/2000028", end: String, server: BaseBackupSession.Server = Self.server) throws -> PhysicalBackupInfo {
        try PostgresPhysicalPlan.physicalInfo(target: "db", checkpoint: "fast", server: server,
                                              start: BaseBackupSession.Position(lsn: start, timeline: 1),
                                              end: BaseBackupSession.Position(lsn: end, timeline: 1), tablespaces: [])
    }

    @Test func theRangeEndsWithTheSegmentOfTheByteBeforeTheEnd() throws {
        let within = try Self.info(end: "0/3000100")
        #expect(within.startWAL == "000000010000000000000002" && within.endWAL == "000000010000000000000003")
        // An end on a segment boundary does not need the segment it opens.
        #expect(try Self.info(end: "0/3000000").endWAL == "000000010000000000000002")
        #expect(try Self.info(end: "0/3000000").systemIdentifier == "7412345678901234567")
    }

    @Test func anEndAtZeroOrNotAfterTheStartIsRefusedNamingTheAnswer() {
        for end in ["0/0", "0/2000028", "0/1000000", "nonsense"] {
            let error = #expect(throws: PhysicalBackupError.self) { try Self.info(end: end) }
            #expect("\(error!)".contains("end position '\(end)'") && "\(error!)".contains("target 'db'")
                    && "\(error!)".contains("not committed"), "\(error!)")
        }
    }

    /// The WAL archive is keyed by the identifier's decimal text (`PhysicalBackupInfo.cluster`):
    /// one it would read differently (or as cluster 0) is refused before anything waits on it.
    @Test func aSystemIdentifierTheArchiveCannotKeyIsRefused() {
        for text in ["007", "+7", "", "18446744073709551616"] {
            var server = Self.server
            server.systemIdentifier = text
            let error = #expect(throws: PhysicalBackupError.self) { try Self.info(end: "0/3000100", server: server) }
            #expect("\(error.map { "\($0)" } ?? "")".contains("system identifier '\(text)'"), "\(String(describing: error))")
        }
    }

    @Test func aSegmentSizeNoServerHasIsRefused() {
        var server = Self.server
        server.walSegmentSize = 0
        let error = #expect(throws: PhysicalBackupError.self) { try Self.info(end: "0/3000100", server: server) }
        #expect("\(error!)".contains("wal_segment_size 0"), "\(error!)")
    }
}
