import Testing
import DrctlStorage
@testable import DrctlJobs

/// Which archived WAL prune removes: what comes before the oldest kept base backup's start, per
/// cluster, never a timeline history file, nothing without a kept base backup.
@Suite struct WalRetentionTests {
    static func key(_ system: UInt64, _ name: String) -> String {
        WalLayout.key(target: "db", systemIdentifier: system, file: WalFileName(name)!)
    }

    static let archive = [
        key(7, "000000010000000000000001"), key(7, "000000010000000000000002"),
        key(7, "000000010000000000000003.00000028.backup"), key(7, "000000010000000000000003"),
        key(7, "000000010000000000000004.partial"), key(7, "00000002.history"),
        key(7, "000000020000000000000004"), key(7, "000000020000000000000005"),
        key(9, "000000010000000000000001"),
        "wal/db/7/0000000100000000/notes.txt",
    ]

    @Test func walBeforeTheOldestKeptStartGoesAndHistoryStays() {
        let starts = [
            WalRetention.Start(backupID: "b2", systemIdentifier: 7, startWal: WalFileName("000000020000000000000005")!),
            WalRetention.Start(backupID: "b1", systemIdentifier: 7, startWal: WalFileName("000000010000000000000003")!),
        ]
        let ranges = WalRetention.removable(Self.archive, keeping: starts)
        #expect(ranges.count == 1)
        #expect(ranges.first?.first == "000000010000000000000001" && ranges.first?.last == "000000010000000000000002")
        #expect(ranges.first?.files == 2 && ranges.first?.systemIdentifier == "7")
        #expect(ranges.first?.reason.contains("b1") == true)
        // The backup history file of the start's segment, the partial and later timelines stay.
        #expect(ranges.flatMap(\.keys) == [Self.key(7, "000000010000000000000001"), Self.key(7, "000000010000000000000002")])
    }

    @Test func aLaterStartOnANewTimelineRemovesTheOldTimelinesSegmentsBeforeIt() {
        let starts = [WalRetention.Start(backupID: "b3", systemIdentifier: 7, startWal: WalFileName("000000020000000000000005")!)]
        let keys = WalRetention.removable(Self.archive, keeping: starts).flatMap(\.keys)
        #expect(keys.count == 6)
        #expect(!keys.contains(Self.key(7, "00000002.history")) && !keys.contains(Self.key(7, "000000020000000000000005")))
        #expect(keys.contains(Self.key(7, "000000010000000000000004.partial")))
    }

    @Test func nothingGoesWithoutAKeptBaseBackupOfThatCluster() {
        #expect(WalRetention.removable(Self.archive, keeping: []).isEmpty)
        let otherCluster = [WalRetention.Start(backupID: "b", systemIdentifier: 8, startWal: WalFileName("000000010000000000000009")!)]
        #expect(WalRetention.removable(Self.archive, keeping: otherCluster).isEmpty)
    }
}
