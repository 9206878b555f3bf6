import DrctlTestSupport
import Foundation
import Testing
@testable import DrctlStorage

/// The long page header of segments a real PostgreSQL wrote: its system identifier is the one
/// `pg_controldata` prints, its segment size and page address those of the file's name.
@Suite struct WalSegmentHeaderTests {
    @Test func aRealSegmentsHeaderNamesItsCluster() throws {
        let cluster = try PostgresCluster.start(settings: ["wal_level = replica", "max_wal_senders = 2"], allowReplication: true)
        defer { cluster.stop() }
        #expect(try cluster.sql("SHOW wal_level") == "replica")
        // Replication connections are admitted (pg_hba), as a base backup needs.
        #expect(try cluster.sql("SELECT count(*) FROM pg_hba_file_rules WHERE 'replication' = ANY(database)") == "2")
        let segment = try cluster.sql("SELECT pg_walfile_name(pg_current_wal_lsn())")
        let bytes = try Data(contentsOf: cluster.dataDirectory.appendingPathComponent("pg_wal/\(segment)"))
        let header = try WalSegmentHeader(bytes)
        let system = try cluster.sql("SELECT system_identifier FROM pg_control_system()")
        #expect(String(header.systemIdentifier) == system)
        #expect(header.magic == 0xD110)
        #expect(header.segmentSize == 16 << 20 && header.blockSize == 8192)
        let name = try #require(WalFileName(segment))
        #expect(header.pageAddress == name.startLSN(segmentSize: header.segmentSize))
        #expect(header.timeline == name.timeline)
    }

    @Test func whatIsNoSegmentStartIsRefused() {
        #expect(throws: WalHeaderError.self) { try WalSegmentHeader([UInt8](repeating: 0, count: 12)) }
        // A page without XLP_LONG_HEADER: a segment's later page, not its start.
        var page = [UInt8](repeating: 0, count: 40)
        page[0] = 0x10; page[1] = 0xD1
        #expect(throws: WalHeaderError.self) { try WalSegmentHeader(page) }
    }
}
