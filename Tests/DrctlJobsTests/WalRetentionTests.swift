import Foundation
import Testing
import DrctlCrypto
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

    /// A physical base backup's manifest (its `physical` section as PostgresPhysicalPlan writes
    /// it), as a reader holds it.
    static func manifest(kind: String = PhysicalBackupInfo.kind, physical: PhysicalBackupInfo?) -> BackupManifest {
        let now = Date()
        return BackupManifest(
            backupID: BackupID(startedAt: now).rawValue, target: "db", kind: kind, tool: ToolInfo(version: "test"),
            startedAt: now, finishedAt: now, consistentPoint: ConsistentPoint(time: now, precision: "recoverable"),
            compression: CompressionInfo(level: 3),
            encryption: EncryptionInfo(chunkSize: 1 << 20, dataKey: WrappedDataKey(
                scheme: .symmetric, keyID: "0123456789abcdef", ephemeralPublicKey: nil, nonce: "AAAAAAAAAAAAAAAA", ciphertext: "AAAA")),
            objects: [], source: SourceFacts(program: "postgres"), regions: ["local"], status: .complete, physical: physical)
    }

    static let physical = PhysicalBackupInfo(
        checkpoint: "fast", startLSN: "0/5000028", endLSN: "0/5000100", startWAL: "000000010000000000000005",
        endWAL: "000000010000000000000005", systemIdentifier: "7444523455128913012", tablespaces: [], timeline: 1,
        walSegmentSize: 16 << 20)

    @Test func aKeptBackupsStartIsItsManifestsPhysicalSection() {
        let manifest = Self.manifest(physical: Self.physical)
        #expect(WalRetention.start(of: manifest) == WalRetention.Start(
            backupID: manifest.backupID, systemIdentifier: 7444523455128913012, startWal: WalFileName("000000010000000000000005")!))
        #expect(WalRetention.start(of: Self.manifest(kind: "postgres", physical: nil)) == nil)
        var unusable = Self.physical
        unusable.startWAL = "00000002.history"
        #expect(WalRetention.start(of: Self.manifest(physical: unusable)) == nil)
    }
}
