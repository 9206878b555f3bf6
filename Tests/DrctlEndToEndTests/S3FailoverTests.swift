import Foundation
import Glibc
import Testing
import DrctlSources
import DrctlStorage

/// Two moto servers as two S3 regions, through the `drctl` binary: a region down before or during
/// a backup, repaired by `drctl sync`, and a corrupted copy served from the other region.
@Suite(.serialized) final class S3FailoverTests {
    let sandbox: Sandbox
    var motos: [MotoProcess]
    let names = ["s3a", "s3b"]
    let bucket = "backups"
    let credentials = ["AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "moto-does-not-check"]

    init() throws {
        sandbox = try Sandbox()
        motos = [try MotoProcess(), try MotoProcess()]
        for moto in motos { try moto.createBucket(bucket) }
    }

    func writePolicy(command: [String]) throws {
        let regions = zip(names, motos).map { name, moto in
            """
                - name: \(name)
                  url: s3://\(bucket)/prod
                  endpoint: http://127.0.0.1:\(moto.port)
                  path_style: true
                  timeout: 5s
            """
        }.joined(separator: "\n")
        let argv = command.map { "\"\($0)\"" }.joined(separator: ", ")
        try """
            version: 1
            repository:
              regions:
            \(regions)
              min_regions: 1
              encryption:
                key_file: \(sandbox.keyPath)
            targets:
              - name: files
                kind: command
                command: [\(argv)]

            """.write(toFile: sandbox.policyPath, atomically: true, encoding: .utf8)
    }

    func drctl(_ arguments: [String]) throws -> Drctl.Result {
        try Drctl.run(arguments + ["--policy", sandbox.policyPath], environment: credentials)
    }

    /// The region's store, as drctl sees it.
    func store(_ index: Int) throws -> S3ObjectStore {
        try S3ObjectStore(endpoint: "http://127.0.0.1:\(motos[index].port)", region: "us-east-1", bucket: bucket,
                          prefix: "prod", pathStyle: true,
                          credentials: S3Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "x"))
    }

    func kill9(_ index: Int) {
        kill(motos[index].child.pid, SIGKILL)
        motos[index].child.wait()
    }

    func listedRegions() throws -> [String] {
        let list = try drctl(["list", "--json"])
        #expect(list.status == 0, "\(list)")
        let entries = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]] ?? []
        return entries.first?["regions"] as? [String] ?? []
    }

    func restore(from region: String? = nil) throws -> (Drctl.Result, String) {
        let out = "\(sandbox.root)/restored-\(UUID().uuidString)"
        let result = try drctl(["restore", "--target", "files", "--to", out] + (region.map { ["--region", $0] } ?? []))
        return (result, out)
    }

    @Test func aRegionDownBeforeTheBackupLeavesItDegradedAndRestorable() throws {
        let input = "\(sandbox.root)/input"
        try Command.shell("head -c 3000000 /dev/urandom > '\(input)'")
        try writePolicy(command: ["cat", input])
        kill9(1)
        let backup = try drctl(["backup", "--json"])
        #expect(backup.status == 0, "\(backup)")
        #expect(backup.stdout.contains("\"degraded\""), "\(backup)")
        #expect(backup.stderr.contains("s3b"), "\(backup)")
        #expect(try listedRegions() == ["s3a"])
        let (restore, out) = try restore()
        #expect(restore.status == 0, "\(restore)")
        #expect(try sandbox.sha256(out) == sandbox.sha256(input))
        #expect(try store(0).pendingUploads().isEmpty)
    }

    @Test func aRegionKilledDuringAMultipartUploadIsDroppedThenSyncRepairsIt() throws {
        let input = "\(sandbox.root)/input"
        try Command.shell("head -c 12000000 /dev/urandom > '\(input)'")
        // 24 MB of incompressible bytes with a pause half way: both regions are mid-upload by then.
        try writePolicy(command: ["sh", "-c", "cat '\(input)'; sleep 4; cat '\(input)'"])
        let running = try RunningDrctl(["backup", "--json", "--policy", sandbox.policyPath], environment: credentials)
        let second = try store(1)
        #expect(try eventually(within: 30) { try !second.pendingUploads().isEmpty }, "no upload started in s3b")
        kill9(1)
        let backup = running.wait()
        #expect(backup.status == 0, "\(backup)")
        #expect(backup.stdout.contains("\"degraded\""), "\(backup)")
        #expect(try store(0).pendingUploads().isEmpty)
        let (restored, out) = try restore()
        #expect(restored.status == 0, "\(restored)")
        #expect(try Command.shell("cat '\(input)' '\(input)' | sha256sum") == (try Command.shell("sha256sum < '\(out)'")))

        // The region comes back (empty, as a restarted moto is); sync copies the backup over.
        motos[1] = try MotoProcess(port: motos[1].port)
        try motos[1].createBucket(bucket)
        let sync = try drctl(["sync"])
        #expect(sync.status == 0, "\(sync)")
        #expect(try listedRegions() == ["s3a", "s3b"])
        let (fromB, outB) = try restore(from: "s3b")
        #expect(fromB.status == 0, "\(fromB)")
        #expect(try sandbox.sha256(outB) == sandbox.sha256(out))
        for index in 0..<2 { #expect(try store(index).pendingUploads().isEmpty) }
    }

    @Test func anObjectCorruptedInTheFirstRegionIsServedFromTheSecondAndTheCorruptionIsReported() throws {
        let input = "\(sandbox.root)/input"
        try Command.shell("head -c 7000000 /dev/urandom > '\(input)'")
        try writePolicy(command: ["cat", input])
        let backup = try drctl(["backup", "--json"])
        #expect(backup.status == 0 && backup.stdout.contains("\"complete\""), "\(backup)")

        // Flip one byte in the middle of s3a's copy (replaced behind drctl's back: delete, put).
        let first = try store(0)
        let object = try #require(first.list(prefix: "data/").first)
        var bytes = try first.get(object.key)
        bytes[bytes.count / 2] ^= 0x01
        try first.delete(object.key)
        try first.put(object.key, bytes: bytes)

        let (restored, out) = try restore()
        #expect(restored.status == 0, "\(restored)")
        #expect(try sandbox.sha256(out) == sandbox.sha256(input))
        #expect(restored.stderr.contains("region 's3a'"), "\(restored)")
        #expect(restored.stderr.contains("integrity failure"), "\(restored)")
        let verify = try drctl(["verify"])
        #expect(verify.status == 3, "\(verify)")
    }
}
