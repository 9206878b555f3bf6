import Foundation
import Glibc
import Testing
import DrctlSources
import DrctlTestSupport
@testable import DrctlStorage

/// A TCP server on a loopback port that accepts connections and reads requests but never answers:
/// a region whose endpoint is alive and stuck.
final class SilentServer {
    private let server: LoopbackScript
    var port: Int { server.port }

    static let script = #"""
import socket, sys, threading
server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 0)); server.listen(64)
print(server.getsockname()[1], flush=True)
def swallow(conn):
    while conn.recv(65536): pass
while True:
    conn, _ = server.accept()
    threading.Thread(target=swallow, args=(conn,), daemon=True).start()
"""#

    init() throws {
        server = try LoopbackScript("the silent server", script: Self.script)
    }
}

/// The fan-out's regions write in parallel on their own threads: a failing or stalled region is
/// dropped while the others complete.
@Suite(.serialized) final class RegionFanOutTests {
    let root: String
    let key = "data/t/20261201T000000.000Z-abcdef/stdout"

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-fanout-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func directoryRegion(_ name: String) -> Region {
        Region(name: name, store: LocalDirectoryStore(root: "\(root)/\(name)"))
    }

    /// Every file under a region's directory, hidden temporary files included.
    func files(of name: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: "\(root)/\(name)") else { return [] }
        var found: [String] = []
        while let path = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: "\(root)/\(name)/\(path)", isDirectory: &isDirectory),
               !isDirectory.boolValue { found.append(path) }
        }
        return found
    }

    /// Writes `data` through a fan-out in pipeline-sized pieces and commits it.
    func fanOut(_ data: [UInt8], roster: RegionRoster) throws -> RegionFanOutSink {
        let sink = try RegionFanOutSink(key: key, roster: roster)
        do {
            var offset = 0
            while offset < data.count {
                let end = min(offset + (256 << 10), data.count)
                try data[offset..<end].withUnsafeBytes { try sink.write($0) }
                offset = end
            }
            try sink.finish()
        } catch {
            sink.abort()
            throw error
        }
        return sink
    }

    func s3Region(_ name: String, endpoint: String, bucket: String, timeout: Duration?) throws -> Region {
        Region(name: name, store: try S3ObjectStore(endpoint: endpoint, region: MotoServer.region, bucket: bucket, prefix: "",
                                                    pathStyle: true, credentials: MotoServer.anyCredentials,
                                                    partSize: 5 << 20),
               timeout: timeout)
    }

    @Test func aRegionThatNeverAnswersIsDroppedAfterItsTimeoutWhileADirectoryCompletes() throws {
        let silent = try SilentServer()
        let stuck = try s3Region("stuck", endpoint: "http://127.0.0.1:\(silent.port)", bucket: "b", timeout: .seconds(1))
        let roster = RegionRoster(regions: [directoryRegion("local"), stuck], minRegions: 1)
        // 12 MiB: the stuck region's first part blocks, its buffer fills, and the fan-out gives up on it.
        let data = s3TestBytes(12 << 20, seed: 11)
        let started = ContinuousClock.now
        let sink = try fanOut(data, roster: roster)
        let elapsed = ContinuousClock.now - started
        #expect(sink.regions.map(\.name) == ["local"])
        #expect(roster.dropped.map(\.region) == ["stuck"])
        let reason = "\(roster.dropped.first!.error)"
        #expect(reason.contains("made no progress for 1 s"), "\(reason)")
        #expect(elapsed >= .seconds(1) && elapsed < .seconds(10), "\(elapsed)")
        #expect(try LocalDirectoryStore(root: "\(root)/local").get(key) == data)
    }

    @Test func aSmallObjectStuckInItsCommitIsDroppedToo() throws {
        let silent = try SilentServer()
        let stuck = try s3Region("stuck", endpoint: "http://127.0.0.1:\(silent.port)", bucket: "b", timeout: .seconds(1))
        let roster = RegionRoster(regions: [stuck, directoryRegion("local")], minRegions: 1)
        let data = s3TestBytes(100_000, seed: 12)
        let sink = try fanOut(data, roster: roster)
        #expect(sink.regions.map(\.name) == ["local"])
        #expect("\(roster.dropped.first!.error)".contains("made no progress"))
        #expect(try LocalDirectoryStore(root: "\(root)/local").get(key) == data)
    }

    @Test func aStalledRegionBelowTheQuorumFailsTheWriteAndLeavesNothing() throws {
        let silent = try SilentServer()
        let stuck = try s3Region("stuck", endpoint: "http://127.0.0.1:\(silent.port)", bucket: "b", timeout: .seconds(1))
        let roster = RegionRoster(regions: [directoryRegion("local"), stuck], minRegions: 2)
        let error = #expect(throws: RegionQuorumError.self) { _ = try self.fanOut(s3TestBytes(7 << 20, seed: 13), roster: roster) }
        #expect("\(error!)".contains("only 1 of 2") && "\(error!)".contains("made no progress"), "\(error!)")
        #expect(files(of: "local").isEmpty, "\(files(of: "local"))")
    }

    @Test func aStoppedMotoIsDroppedMidUploadAndItsUploadIsAbortedOnceItResumes() throws {
        let moto = try MotoServer()
        try moto.createBucket("stopped")
        let region = try s3Region("s3", endpoint: moto.endpoint, bucket: "stopped", timeout: .seconds(1))
        let roster = RegionRoster(regions: [region, directoryRegion("local")], minRegions: 1)
        let data = s3TestBytes(14 << 20, seed: 14)
        let sink = try RegionFanOutSink(key: key, roster: roster)
        var resumed = false
        defer { if !resumed { kill(moto.child.pid, SIGCONT) } }
        // The first 6 MiB start the multipart upload; then moto stops answering.
        try data[0..<(6 << 20)].withUnsafeBytes { try sink.write($0) }
        #expect(try eventually(within: 20) { try !moto.store(bucket: "stopped").pendingUploads().isEmpty })
        kill(moto.child.pid, SIGSTOP)
        try data[(6 << 20)...].withUnsafeBytes { try sink.write($0) }
        try sink.finish()
        #expect(sink.regions.map(\.name) == ["local"])
        #expect("\(roster.dropped.first!.error)".contains("region 's3' made no progress"))
        #expect(try LocalDirectoryStore(root: "\(root)/local").get(key) == data)
        kill(moto.child.pid, SIGCONT)
        resumed = true
        // The dropped region's thread gets its abort through once moto answers again.
        #expect(try eventually(within: 30) { try moto.store(bucket: "stopped").pendingUploads().isEmpty })
        #expect(try moto.store(bucket: "stopped").list(prefix: "").isEmpty)
    }

    @Test func aFailingRegionDoesNotStopTheOthers() throws {
        let moto = try MotoServer()
        // No bucket: every request of this region fails (NoSuchBucket).
        let failing = try s3Region("nobucket", endpoint: moto.endpoint, bucket: "missing", timeout: nil)
        let roster = RegionRoster(regions: [directoryRegion("a"), failing, directoryRegion("b")], minRegions: 2)
        let data = s3TestBytes(12 << 20, seed: 15)
        let sink = try fanOut(data, roster: roster)
        #expect(sink.regions.map(\.name) == ["a", "b"])
        #expect(roster.dropped.map(\.region) == ["nobucket"])
        #expect("\(roster.dropped.first!.error)".contains("missing"), "\(roster.dropped.first!.error)")
        for name in ["a", "b"] { #expect(try LocalDirectoryStore(root: "\(root)/\(name)").get(key) == data) }
    }

    @Test func aFailingRegionBelowTheQuorumFailsAndEveryPartialObjectIsRemoved() throws {
        let moto = try MotoServer()
        try moto.createBucket("present")
        let failing = try s3Region("nobucket", endpoint: moto.endpoint, bucket: "missing", timeout: nil)
        let good = try s3Region("s3", endpoint: moto.endpoint, bucket: "present", timeout: nil)
        let roster = RegionRoster(regions: [directoryRegion("a"), failing, good], minRegions: 3)
        #expect(throws: RegionQuorumError.self) { _ = try self.fanOut(s3TestBytes(12 << 20, seed: 16), roster: roster) }
        #expect(files(of: "a").isEmpty, "\(files(of: "a"))")
        #expect(try moto.store(bucket: "present").pendingUploads().isEmpty)
        #expect(try moto.store(bucket: "present").list(prefix: "").isEmpty)
    }
}

/// Polls `condition` every 100 ms for up to `seconds`; true when it held.
func eventually(within seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(100_000)
    }
    return try condition()
}
