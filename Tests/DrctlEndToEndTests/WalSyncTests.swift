import DrctlTestSupport
import Foundation
import Testing

/// `drctl sync` of a physical target's WAL archive when a source's copy fails its checks: as for
/// a backup's objects (SyncTests), the damaged copy is skipped for the next region's, and logged;
/// damaged in every source, nothing is written and the run is an integrity failure (exit 3).
@Suite(.serialized) struct WalSyncTests {
    /// Two real segments pushed into directory regions `a` and `b`; then the policy names a third,
    /// empty one, `c`. Returns the segments and the regions' directories.
    static func archived() throws -> (WalArchiving, segments: [String], a: String, b: String, c: String) {
        let wal = try WalArchiving(settings: ["archive_mode = off"])
        let (a, b, c) = ("\(wal.sandbox.root)/a", "\(wal.sandbox.root)/b", "\(wal.sandbox.root)/c")
        try wal.sandbox.writePolicy(targets: [], regions: [("a", a), ("b", b)], minRegions: 2, rawTargets: WalArchiving.physicalTarget)
        var segments: [String] = []
        for _ in 0..<2 {
            try wal.cluster.exec(["CREATE TABLE IF NOT EXISTS t (x int)", "INSERT INTO t SELECT generate_series(1, 1000)"])
            let name = try wal.cluster.sql("SELECT pg_walfile_name(pg_current_wal_lsn())")
            try wal.cluster.sql("SELECT pg_switch_wal()")
            let pushed = try wal.sandbox.drctl(["wal-push", "--target", "main", "--pgdata", wal.cluster.dataDirectory.path,
                                                try wal.copyOfSegment(name)])
            try #require(pushed.status == 0, "\(pushed)")
            segments.append(name)
        }
        try wal.sandbox.writePolicy(targets: [], regions: [("a", a), ("b", b), ("c", c)], rawTargets: WalArchiving.physicalTarget)
        return (wal, segments, a, b, c)
    }

    /// Moves the copy's `pushed_at` a thousand years on: still a well-formed header of the right
    /// size, but no longer the one its writer signed.
    static func tamperHeader(_ path: String) throws {
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let field = try #require(bytes.range(of: Data("\"pushed_at\"".utf8)))
        let year = try #require(bytes[field.upperBound...].firstIndex(of: UInt8(ascii: "2")))
        bytes[year] = UInt8(ascii: "3")
        try bytes.write(to: URL(fileURLWithPath: path))
    }

    @Test func aWalCopyDamagedInOneRegionIsSkippedForAnotherRegionsCopy() throws {
        let (wal, segments, a, b, c) = try Self.archived()
        let damaged = try wal.key(of: segments[0])
        try Self.tamperHeader("\(a)/\(damaged)")

        let sync = try wal.sandbox.drctl(["sync"])
        #expect(sync.status == 0, "\(sync)")
        #expect(sync.stdout.contains("main wal c: copied 2 objects") && sync.stdout.contains("from b,a"), "\(sync)")
        #expect(sync.stderr.contains("file=\(segments[0]) from=a"), "the damaged copy is logged: \(sync)")
        #expect(try wal.sandbox.sha256("\(c)/\(damaged)") == (try wal.sandbox.sha256("\(b)/\(damaged)")))
        #expect(try wal.sandbox.sha256("\(c)/\(wal.key(of: segments[1]))") == (try wal.sandbox.sha256("\(a)/\(wal.key(of: segments[1]))")))
        let again = try wal.sandbox.drctl(["sync"])
        #expect(again.status == 0 && !again.stdout.contains("main wal"), "nothing left to copy: \(again)")
        // Write-once: the damaged copy stays until it is deleted; then sync replaces it with an intact one.
        try FileManager.default.removeItem(atPath: "\(a)/\(damaged)")
        let repaired = try wal.sandbox.drctl(["sync"])
        #expect(repaired.status == 0 && repaired.stdout.contains("main wal a: copied 1 object") && repaired.stdout.contains("from b"),
                "\(repaired)")
        #expect(try wal.sandbox.sha256("\(a)/\(damaged)") == (try wal.sandbox.sha256("\(b)/\(damaged)")))
    }

    @Test func aWalCopyDamagedInEverySourceIsAnIntegrityFailureAndWritesNothing() throws {
        let (wal, segments, a, b, c) = try Self.archived()
        let damaged = try wal.key(of: segments[0])
        try Self.tamperHeader("\(a)/\(damaged)")
        try Self.tamperHeader("\(b)/\(damaged)")

        for arguments in [["sync", "--to", "c"], ["sync", "--from", "b", "--to", "c"]] {
            let sync = try wal.sandbox.drctl(arguments)
            #expect(sync.status == 3, "\(sync)")
            #expect(sync.stdout.contains("main wal c: FAILED") && sync.stdout.contains(segments[0]), "\(sync)")
            #expect(!FileManager.default.fileExists(atPath: "\(c)/\(damaged)"))
            // The intact file was copied all the same.
            #expect(FileManager.default.fileExists(atPath: "\(c)/\(try wal.key(of: segments[1]))"))
        }
    }
}
