import DrctlTestSupport
import Foundation
import Glibc
import Testing

/// `wal-fetch`'s spool (docs/ARCHITECTURE.md, "WAL archive"): the read-ahead worker, a process
/// of its own, opens the next segments as `wal-fetch` would and leaves them plain in a directory
/// trusted as PGDATA is; `wal-fetch` serves one by a rename, without the regions. Every test
/// waits for the worker it started to end: none is left running.
@Suite(.serialized) struct WalSpoolTests {
    typealias TwoRegions = WalFetchTests.TwoRegions

    static func fetch(_ regions: TwoRegions, _ name: String, to path: String, spool: String,
                      readAhead: [String] = []) throws -> Drctl.Result {
        try Drctl.run(["wal-fetch", "--policy", regions.wal.sandbox.policyPath, "--target", "main", "--system-identifier",
                       regions.system, "--spool", spool] + readAhead + [name, path], environment: WalFetchTests.credentials)
    }

    /// Whether a process holds the worker's lock in `spool`.
    static func workerRuns(_ spool: String) -> Bool {
        let descriptor = open("\(spool)/worker.lock", O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        return flock(descriptor, LOCK_EX | LOCK_NB) != 0
    }

    static func workerLog(_ spool: String) -> String {
        (try? String(contentsOfFile: "\(spool)/worker.log", encoding: .utf8)) ?? ""
    }

    /// Waits until `runs` workers have said they ended and none holds the spool's lock.
    static func awaitWorkers(_ spool: String, runs: Int) throws {
        let ended = try eventually(within: 120) {
            workerLog(spool).components(separatedBy: "WAL read-ahead ").count - 1 >= runs && !workerRuns(spool)
        }
        #expect(ended, "\(workerLog(spool))")
    }

    /// What the spool holds besides the worker's lock and log.
    static func spooled(_ spool: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: spool).filter { !["worker.lock", "worker.log"].contains($0) }.sorted()
    }

    /// Fetches `name`, which the spool holds: served from there, the original byte for byte, and
    /// no longer in the spool.
    static func expectServedFromTheSpool(_ regions: TwoRegions, _ name: String, spool: String) throws {
        let out = "\(regions.wal.sandbox.root)/\(name).fetched"
        let fetched = try fetch(regions, name, to: out, spool: spool)
        #expect(fetched.status == 0 && fetched.stderr.contains("region=spool"), "\(fetched)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == regions.original(name))
        #expect(try spooled(spool).isEmpty)
    }

    /// Fetching one segment starts the worker, which leaves the next in the spool, plain and
    /// byte for byte the original; with both regions gone, wal-fetch serves it from there.
    @Test func theWorkerSpoolsThePlainNextSegmentAndWalFetchServesItWithoutTheRegions() throws {
        let regions = try TwoRegions(s3First: true)
        let spool = "\(regions.wal.sandbox.root)/spool"
        let first = try Self.fetch(regions, regions.segments[0], to: "\(regions.wal.sandbox.root)/first", spool: spool)
        #expect(first.status == 0 && first.stderr.contains("region=s3"), "\(first)")
        try Self.awaitWorkers(spool, runs: 1)
        #expect(try Self.spooled(spool) == [regions.segments[1]])
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(spool)/\(regions.segments[1])")) == regions.original(regions.segments[1]))
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: spool)[.posixPermissions] as? Int)
        #expect(mode == 0o700)

        regions.moto.child.terminate(grace: 1)
        regions.moto.child.wait()
        try FileManager.default.removeItem(atPath: "\(regions.wal.sandbox.repository)/wal")
        try Self.expectServedFromTheSpool(regions, regions.segments[1], spool: spool)
        // The worker it started finds no region to list: it ends, having spooled nothing.
        try Self.awaitWorkers(spool, runs: 2)
    }

    /// A spool on another file system than `%p` (tmpfs here): the segment is copied, then
    /// removed from the spool.
    @Test func aSpoolOnAnotherFileSystemServesByACopy() throws {
        let regions = try TwoRegions()
        let spool = "/dev/shm/drctl-spool-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: spool) }
        #expect(try Self.fetch(regions, regions.segments[0], to: "\(regions.wal.sandbox.root)/first", spool: spool).status == 0)
        try Self.awaitWorkers(spool, runs: 1)
        #expect(try Self.spooled(spool) == [regions.segments[1]])
        try Self.expectServedFromTheSpool(regions, regions.segments[1], spool: spool)
        try Self.awaitWorkers(spool, runs: 2)
    }

    /// A copy that fails its checks is never spooled: the first region's damaged copy is passed
    /// over for the second's; damaged in both, nothing is spooled (not even in part) and
    /// wal-fetch fails closed (126) for it.
    @Test func aDamagedCopyIsNeverSpooled() throws {
        let regions = try TwoRegions(s3First: true)
        let spool = "\(regions.wal.sandbox.root)/spool"
        let name = regions.segments[1]
        let bucket = try regions.moto.store(bucket: "backups")
        let key = try #require(try bucket.list(prefix: "").map(\.key).first { $0.hasSuffix("/\(name)") })
        var stored = try bucket.get(key)
        stored[stored.count - 100] ^= 0x01
        try bucket.delete(key)
        try bucket.put(key, bytes: stored)

        #expect(try Self.fetch(regions, regions.segments[0], to: "\(regions.wal.sandbox.root)/first", spool: spool).status == 0)
        try Self.awaitWorkers(spool, runs: 1)
        #expect(try Self.spooled(spool) == [name])
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(spool)/\(name)")) == regions.original(name))

        try FileManager.default.removeItem(atPath: "\(spool)/\(name)")
        try regions.wal.damageStoredCopy(of: name)
        #expect(try Self.fetch(regions, regions.segments[0], to: "\(regions.wal.sandbox.root)/again", spool: spool).status == 0)
        try Self.awaitWorkers(spool, runs: 2)
        #expect(Self.workerLog(spool).contains("WAL segment not read ahead"), "\(Self.workerLog(spool))")
        #expect(try Self.spooled(spool).isEmpty)
        let out = "\(regions.wal.sandbox.root)/second"
        let nowhere = try Self.fetch(regions, name, to: out, spool: spool)
        #expect(nowhere.status == 126, "\(nowhere)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// A spool others may write, or another user's, is not used at all: a segment planted there
    /// is not served (the regions' copy is), and no worker writes into it.
    @Test func aSpoolOthersMayUseOrAnotherUsersIsRefused() throws {
        let regions = try TwoRegions()
        let name = regions.segments[1]
        let spool = "\(regions.wal.sandbox.root)/spool"
        try FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: true)
        var planted = try regions.original(name)
        planted[planted.count - 100] ^= 0x01   // past the first page: only the spool's trust keeps it out
        let plantedPath = "\(spool)/\(name)"
        try planted.write(to: URL(fileURLWithPath: plantedPath))
        for (setUp, reason) in [("chmod 777 '\(spool)'", "its mode is 777"), ("chmod 700 '\(spool)' && chown postgres: '\(spool)'", "is owned by uid")] {
            try Command.shell(setUp)
            let out = "\(regions.wal.sandbox.root)/fetched"
            let fetched = try Self.fetch(regions, name, to: out, spool: spool)
            #expect(fetched.status == 0 && fetched.stderr.contains("is not used") && fetched.stderr.contains(reason), "\(fetched)")
            #expect(!fetched.stderr.contains("region=spool"), "\(fetched)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == regions.original(name))
            #expect(try Data(contentsOf: URL(fileURLWithPath: plantedPath)) == planted)
            #expect(try Self.spooled(spool) == [name])
            #expect(!FileManager.default.fileExists(atPath: "\(spool)/worker.log"))
            try FileManager.default.removeItem(atPath: out)
        }
    }

    /// A segment of the same name but another cluster's (a restore of another cluster left it) is
    /// removed, not served.
    @Test func aSpooledSegmentOfAnotherClusterIsNotServed() throws {
        let regions = try TwoRegions()
        let name = regions.segments[1]
        let spool = "\(regions.wal.sandbox.root)/spool"
        try FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var other = try regions.original(name)
        other[24] ^= 0x01   // xlp_sysid, in the first page's long header
        try other.write(to: URL(fileURLWithPath: "\(spool)/\(name)"))
        let out = "\(regions.wal.sandbox.root)/fetched"
        let fetched = try Self.fetch(regions, name, to: out, spool: spool)
        #expect(fetched.status == 0 && fetched.stderr.contains("refused and removed") && fetched.stderr.contains("region=local"), "\(fetched)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == regions.original(name))
        #expect(try Self.spooled(spool).isEmpty)
        try Self.awaitWorkers(spool, runs: 1)
    }

    /// `--read-ahead` below 0 used to turn the spool off without a word; it is refused, and
    /// PostgreSQL stops recovery (126) rather than going on with a command line nobody meant.
    @Test func aNegativeReadAheadIsRefused() throws {
        let regions = try TwoRegions()
        let spool = "\(regions.wal.sandbox.root)/spool"
        let out = "\(regions.wal.sandbox.root)/fetched"
        let fetched = try Self.fetch(regions, regions.segments[0], to: out, spool: spool, readAhead: ["--read-ahead=-1"])
        #expect(fetched.status == 126 && fetched.stderr.contains("--read-ahead"), "\(fetched)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
