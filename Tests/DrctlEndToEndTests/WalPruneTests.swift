import DrctlTestSupport
import Foundation
import Testing

/// `prune` of a physical target end to end (docs/POLICY.md, "Retention"; docs/FORMAT.md, "WAL
/// archive"): a real PostgreSQL 15 archiving through the real drctl binary, two base backups
/// with WAL between and after them, and a retention that keeps only the newest.
@Suite(.serialized) struct WalPruneTests {
    /// The archive's files (relative to `wal/main/`), by name.
    static func archived(_ wal: WalArchiving) -> [String] {
        wal.sandbox.files(under: "\(wal.sandbox.repository)/wal/main")
    }

    /// Whether an archived file (`<system>/<folder>/<name>`) comes before segment `start` in the
    /// log: what retention removes. History files never do.
    static func before(_ path: String, _ start: String) -> Bool {
        let name = String(path.split(separator: "/").last ?? "")
        guard !name.hasSuffix(".history") else { return false }
        let position = { (file: String) in String(file.dropFirst(8).prefix(16)) }
        return position(name) < position(start)
    }

    /// A manifest's `physical.start_wal`, as stored.
    static func startWal(of manifest: String) throws -> String {
        let text = try String(contentsOfFile: manifest, encoding: .utf8)
        let match = try #require(text.firstMatch(of: /"start_wal" : "([0-9A-F]{24})"/))
        return String(match.1)
    }

    @Test func pruneRemovesExactlyTheWALBeforeTheKeptBaseBackupAndRecoveryStillReachesTheEnd() throws {
        let wal = try PointInTimeRecoveryTests.archiving(more: "    retention: {keep_last: 1}\n")
        let pg = wal.cluster
        _ = try PointInTimeRecoveryTests.commit(batch: 1, on: pg)
        try wal.switchSegment()
        let first = try wal.drctlAsPostgres(["backup"])
        try #require(first.status == 0, "\(first)")
        _ = try PointInTimeRecoveryTests.commit(batch: 2, on: pg)
        try wal.switchSegment()
        try wal.switchSegment()
        let second = try wal.drctlAsPostgres(["backup"])
        try #require(second.status == 0, "\(second)")
        _ = try PointInTimeRecoveryTests.commit(batch: 3, on: pg)
        try wal.switchSegment(rows: 1)   // everything up to batch 3 is archived

        let manifests = wal.sandbox.files(under: "\(wal.sandbox.repository)/manifests/main")
        try #require(manifests.count == 2)
        let (oldest, newest) = (manifests[0], manifests[1])
        let start = try Self.startWal(of: "\(wal.sandbox.repository)/manifests/main/\(newest)")
        let archive = Self.archived(wal)
        let going = archive.filter { Self.before($0, start) }
        try #require(!going.isEmpty && going.count < archive.count, "\(start): \(archive)")
        let goingNames = going.compactMap { $0.split(separator: "/").last.map(String.init) }.sorted()
        let newestID = String(newest.dropLast(".json".count))

        // --dry-run names the range that goes and why, and removes nothing.
        let dry = try wal.drctlAsPostgres(["prune", "--dry-run"])
        #expect(dry.status == 0, "\(dry)")
        #expect(dry.stdout.contains("WAL \(goingNames.first!) … \(goingNames.last!) (\(going.count) file(s)"), "\(dry)")
        #expect(dry.stdout.contains("before \(start), where the oldest kept base backup \(newestID) starts"), "\(dry)")
        #expect(Self.archived(wal) == archive)
        #expect(wal.sandbox.files(under: "\(wal.sandbox.repository)/manifests/main") == manifests)

        // prune removes the older backup and exactly the WAL before the kept one's start_wal.
        let prune = try wal.drctlAsPostgres(["prune"])
        #expect(prune.status == 0, "\(prune)")
        #expect(wal.sandbox.files(under: "\(wal.sandbox.repository)/manifests/main") == [newest], "\(oldest) stays")
        let left = Self.archived(wal)
        #expect(left == archive.filter { !Self.before($0, start) }, "\(prune)")
        #expect(left.contains { $0.hasSuffix("/\(start)") })
        #expect(left.contains { $0.hasSuffix(".backup") })   // the kept backup's backup history file

        // Recovery from the kept backup to the end of the archive still reaches every row.
        let (batches, restore) = try PointInTimeRecoveryTests.restoredBatches(wal, into: "latest", ["--point-in-time", "latest"])
        #expect(batches == "1,2,3 30", "\(restore)")
    }
}
