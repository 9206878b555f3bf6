import DrctlSources
import DrctlTestSupport
import Foundation
import Glibc
import Testing

/// `wal-push` killed (SIGKILL, as an OOM kill or a crash would) while it writes a segment: to a
/// directory region, and to an S3 region (moto) in the middle of its multipart upload. Nothing
/// is left at the file's key (`wal-fetch` finds it absent), the next push of the same file
/// succeeds and serves its bytes, and `prune` sweeps what the killed push left (a hidden
/// temporary file, an unfinished upload) once its grace has passed.
@Suite(.serialized) struct WalPushInterruptionTests {
    static func push(_ wal: WalArchiving, _ copy: String, environment: [String: String] = [:]) throws -> ChildProcess {
        try ChildProcess(argv: [Drctl.binary, "wal-push", "--policy", wal.sandbox.policyPath, "--target", "main",
                                "--pgdata", wal.cluster.dataDirectory.path, copy],
                         environment: .inherited(adding: environment))
    }

    static func fetch(_ wal: WalArchiving, _ name: String, to path: String, system: String,
                      environment: [String: String] = [:]) throws -> Drctl.Result {
        try Drctl.run(["wal-fetch", "--policy", wal.sandbox.policyPath, "--target", "main", "--system-identifier", system,
                       "--spool", "off", name, path], environment: environment)
    }

    /// Waits (polling without a pause) until `condition` holds, up to `seconds`.
    static func spin(within seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline { if condition() { return true } }
        return condition()
    }

    @Test func killedWhileWritingToADirectoryRegionLeavesNoObjectAndTheNextPushSucceeds() throws {
        let wal = try WalArchiving(settings: ["archive_mode = off"])
        let system = try wal.systemIdentifier
        let (name, copy) = try wal.incompressibleSegment()
        let final = "\(wal.sandbox.repository)/\(try wal.key(of: name, system: system))"
        let folder = (final as NSString).deletingLastPathComponent
        func temporaries() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasPrefix(".\(name).tmp-") }
        }
        // Stopped the moment its temporary file appears: mid-write, unless the file was already
        // linked to its name by then (the attempt is then repeated on a clean archive).
        var caught = false
        for _ in 0..<10 where !caught {
            let push = try Self.push(wal, copy)
            let seen = Self.spin(within: 30) { !temporaries().isEmpty }
            kill(push.pid, SIGSTOP)
            caught = seen && !FileManager.default.fileExists(atPath: final)
            kill(push.pid, SIGKILL)
            _ = push.wait()
            if !caught {
                try? FileManager.default.removeItem(atPath: final)
                for file in temporaries() { try? FileManager.default.removeItem(atPath: "\(folder)/\(file)") }
            }
        }
        try #require(caught, "wal-push was never stopped while writing (with nothing at the final name yet)")
        #expect(temporaries().count == 1)

        // A reader believes nothing: the file is absent.
        let absent = try Self.fetch(wal, name, to: "\(wal.sandbox.root)/absent", system: system)
        #expect(absent.status == 1, "\(absent)")
        // The next push succeeds and the archive serves exactly the file.
        let again = try Drctl.run(["wal-push", "--policy", wal.sandbox.policyPath, "--target", "main",
                                   "--pgdata", wal.cluster.dataDirectory.path, copy])
        #expect(again.status == 0, "\(again)")
        let fetched = try Self.fetch(wal, name, to: "\(wal.sandbox.root)/fetched", system: system)
        #expect(fetched.status == 0, "\(fetched)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(wal.sandbox.root)/fetched")) == Data(contentsOf: URL(fileURLWithPath: copy)))

        // prune sweeps the killed push's temporary file once its grace has passed.
        Thread.sleep(forTimeInterval: 1.1)
        let prune = try wal.sandbox.drctl(["prune", "--leftover-grace", "1s"])
        #expect(prune.status == 0, "\(prune)")
        #expect(temporaries().isEmpty, "\(prune)")
        #expect(FileManager.default.fileExists(atPath: final))
    }

    @Test func killedInTheMiddleOfAnS3UploadLeavesNoObjectAndTheNextPushSucceeds() throws {
        let wal = try WalArchiving(settings: ["archive_mode = off"])
        let system = try wal.systemIdentifier
        let moto = try MotoProcess()
        try moto.createBucket("backups")
        // Every part is held 30 s on its way to moto: the push is killed with its parts in flight.
        let proxy = try FaultProxy(upstream: moto.port, every: 1_000_000_000, faults: ["500"], holdParts: 30)
        let credentials = WalFetchTests.credentials
        try wal.writeS3Policy(endpoint: proxy.port, more: "    retention: {keep_last: 1}")
        let (name, copy) = try wal.incompressibleSegment()

        let push = try Self.push(wal, copy, environment: credentials)
        let uploading = Self.spin(within: 60) { ((try? proxy.stats().partsAtOnce) ?? 0) >= 1 }
        kill(push.pid, SIGKILL)
        _ = push.wait()
        let relayed = try proxy.requests()
        try #require(uploading, "the push never started its multipart upload: \(relayed)")
        #expect(!relayed.contains { $0.hasPrefix("POST") && $0.contains("uploadId=") }, "never completed: \(relayed)")

        // Straight to moto from here on (the proxy would hold every part again).
        try wal.writeS3Policy(endpoint: moto.port, more: "    retention: {keep_last: 1}")
        let absent = try Self.fetch(wal, name, to: "\(wal.sandbox.root)/absent", system: system, environment: credentials)
        #expect(absent.status == 1, "\(absent)")
        let again = try Drctl.run(["wal-push", "--policy", wal.sandbox.policyPath, "--target", "main",
                                   "--pgdata", wal.cluster.dataDirectory.path, copy], environment: credentials)
        #expect(again.status == 0, "\(again)")
        let fetched = try Self.fetch(wal, name, to: "\(wal.sandbox.root)/fetched", system: system, environment: credentials)
        #expect(fetched.status == 0, "\(fetched)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(wal.sandbox.root)/fetched")) == Data(contentsOf: URL(fileURLWithPath: copy)))

        // prune aborts the killed push's unfinished upload once its grace has passed.
        Thread.sleep(forTimeInterval: 1.1)
        let prune = try Drctl.run(["prune", "--policy", wal.sandbox.policyPath, "--leftover-grace", "1s"], environment: credentials)
        #expect(prune.status == 0, "\(prune)")
        #expect(prune.stdout.contains("wal/main/\(system)/"), "\(prune)")
    }
}
