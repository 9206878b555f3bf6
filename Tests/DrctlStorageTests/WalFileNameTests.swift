import Testing
@testable import DrctlStorage

/// WAL file names and LSNs as PostgreSQL 15 spells them (src/include/access/xlog_internal.h:
/// XLogFileName, XLByteToSeg, BackupHistoryFileName, TLHistoryFileName).
@Suite struct WalFileNameTests {
    @Test func lsnsParseAndPrintAsPostgresDoes() {
        #expect(LSN("0/3000100")?.value == 0x0300_0100)
        #expect(LSN("1A/2b")?.value == 0x1A_0000_002B)
        #expect(LSN("FFFFFFFF/FFFFFFFF")?.value == UInt64.max)
        #expect(LSN(0x1A_0000_002B).description == "1A/2B")
        #expect(LSN(0).description == "0/0")
        for bad in ["", "0", "0/", "/0", "0/0/0", "123456789/0", "G/0", " 0/0", "0x1/0", "-1/0"] {
            #expect(LSN(bad) == nil, "\(bad)")
        }
        #expect(LSN("0/2000028")! < LSN("0/3000100")!)
        #expect(LSN("1/0")! > LSN("0/FFFFFFFF")!)
    }

    @Test func segmentsOfAnLSNFollowTheSegmentSize() {
        let sixteen = 16 << 20
        #expect(WalFileName.segment(containing: LSN("0/3000100")!, timeline: 1, segmentSize: sixteen).description
            == "000000010000000000000003")
        // 256 segments of 16 MiB per "log" number: 0x1_2F000000 is segment 0x12F.
        #expect(WalFileName.segment(containing: LSN("1/2F000000")!, timeline: 2, segmentSize: sixteen).description
            == "00000002000000010000002F")
        // 64 MiB segments: 64 per log.
        #expect(WalFileName.segment(containing: LSN("1/C0000000")!, timeline: 1, segmentSize: 64 << 20).description
            == "000000010000000100000030")
        let last = WalFileName("0000000100000000000000FF")!
        #expect(last.next(segmentSize: sixteen)?.description == "000000010000000100000000")
        #expect(WalFileName("00000001000000000000003F")!.next(segmentSize: 64 << 20)?.description == "000000010000000100000000")
        #expect(last.startLSN(segmentSize: sixteen) == LSN("0/FF000000"))
        #expect(WalFileName("00000003000000020000000A")!.segmentNumber(segmentSize: sixteen) == 0x20A)
    }

    @Test func everyKindOfArchivedFileParses() {
        let segment = WalFileName("00000001000000000000000A")!
        #expect(segment.kind == .segment && segment.timeline == 1 && segment.hasPageHeader)
        #expect(segment.folder == "0000000100000000")
        let partial = WalFileName("00000002000000000000000B.partial")!
        #expect(partial.kind == .partial && partial.timeline == 2 && partial.hasPageHeader)
        #expect(partial.segmentName?.description == "00000002000000000000000B")
        let backup = WalFileName("000000010000000000000002.00000028.backup")!
        #expect(backup.kind == .backupHistory(offset: 0x28) && !backup.hasPageHeader)
        #expect(backup.description == "000000010000000000000002.00000028.backup")
        #expect(backup.folder == "0000000100000000")
        let history = WalFileName("0000000A.history")!
        #expect(history.kind == .timelineHistory && history.timeline == 10 && history.folder == "history")
        #expect(WalFileName.history(timeline: 10) == history)
        #expect(history.next(segmentSize: 16 << 20) == nil)
        for name in ["00000001000000000000000A", "00000002000000000000000B.partial",
                     "000000010000000000000002.00000028.backup", "0000000A.history"] {
            #expect(WalFileName(name)?.description == name)
        }
    }

    @Test func namesTheServerNeverWritesAreRefused() {
        for name in ["", "00000001000000000000000a", "0000000100000000000000", "00000001000000000000000A0",
                     "00000000000000000000000A", "00000000.history", "0000000a.history", "000000010.history",
                     "00000001000000000000000A.tmp", "00000001000000000000000A.partial.x",
                     "000000010000000000000002.0000028.backup", "000000010000000000000002.00000028.backu",
                     "000000010000000000000002-00000028.backup", "pg_wal/00000001000000000000000A",
                     "../00000001000000000000000A", "archive_status", "00000001000000000000000A.ready"] {
            #expect(WalFileName(name) == nil, "\(name)")
        }
    }

    @Test func segmentSizesAreThoseInitdbAllows() {
        #expect(WalFileName.isValidSegmentSize(1 << 20) && WalFileName.isValidSegmentSize(1 << 30))
        #expect(!WalFileName.isValidSegmentSize(1 << 19) && !WalFileName.isValidSegmentSize(1 << 31))
        #expect(!WalFileName.isValidSegmentSize(3 << 20))
    }
}
