import Foundation
import Testing

/// `drctl sync`: repairing a region that missed backups, with real files in two or three
/// local regions.
@Suite struct SyncTests {
    /// Two regions; r2 could not be written during the backup (its path lies under a regular
    /// file), then the policy points it at a fresh directory: the backup is degraded.
    private func degradedBackup() throws -> (Sandbox, r1: String, r2: String, backupID: String) {
        let sandbox = try Sandbox()
        let r1 = "\(sandbox.root)/r1"
        let blocker = "\(sandbox.root)/blocker"
        try "x".write(toFile: blocker, atomically: true, encoding: .utf8)
        try sandbox.writePolicy(targets: [("t", ["seq", "1", "200000"])], regions: [("r1", r1), ("r2", "\(blocker)/r2")])
        let backup = try sandbox.drctl(["backup", "--json"])
        #expect(backup.status == 0, "\(backup)")
        #expect(backup.stdout.contains("\"degraded\""), "\(backup)")
        let r2 = "\(sandbox.root)/r2"
        try sandbox.writePolicy(targets: [("t", ["seq", "1", "200000"])], regions: [("r1", r1), ("r2", r2)])
        let manifest = sandbox.files(under: r1).first { $0.hasPrefix("manifests/") }!
        let backupID = String(manifest.split(separator: "/").last!.dropLast(".json".count))
        return (sandbox, r1, r2, backupID)
    }

    /// Both regions hold the backup (a normal backup into two fresh directories).
    private func completeBackup() throws -> (Sandbox, r1: String, r2: String, backupID: String) {
        let sandbox = try Sandbox()
        let r1 = "\(sandbox.root)/r1"
        let r2 = "\(sandbox.root)/r2"
        try sandbox.writePolicy(targets: [("t", ["seq", "1", "200000"])], regions: [("r1", r1), ("r2", r2)])
        let backup = try sandbox.drctl(["backup"])
        #expect(backup.status == 0, "\(backup)")
        let manifest = sandbox.files(under: r1).first { $0.hasPrefix("manifests/") }!
        let backupID = String(manifest.split(separator: "/").last!.dropLast(".json".count))
        return (sandbox, r1, r2, backupID)
    }

    private func regionsListed(_ sandbox: Sandbox) throws -> [String] {
        let list = try sandbox.drctl(["list", "--json"])
        #expect(list.status == 0, "\(list)")
        let entries = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(entries.count == 1, "\(list)")
        return entries.first?["regions"] as? [String] ?? []
    }

    private func objectKey(_ sandbox: Sandbox, in region: String) -> String? {
        sandbox.files(under: region).first { $0.hasSuffix("/stdout") }
    }

    private func manifestKey(_ sandbox: Sandbox, in region: String) -> String? {
        sandbox.files(under: region).first { $0.hasPrefix("manifests/") }
    }

    @Test func syncRepairsADegradedBackup() throws {
        let (sandbox, r1, r2, backupID) = try degradedBackup()
        #expect(try regionsListed(sandbox) == ["r1"])

        let sync = try sandbox.drctl(["sync"])
        #expect(sync.status == 0, "\(sync)")
        #expect(sync.stdout.contains("t \(backupID) r2: copied 1 object ("), "\(sync)")
        #expect(sync.stdout.contains("from r1"), "\(sync)")
        #expect(try regionsListed(sandbox) == ["r1", "r2"])
        // The manifest is the source's, byte for byte; the object too.
        let manifest = manifestKey(sandbox, in: r1)!
        #expect(try sandbox.sha256("\(r1)/\(manifest)") == (try sandbox.sha256("\(r2)/\(manifest)")))
        let object = objectKey(sandbox, in: r1)!
        #expect(try sandbox.sha256("\(r1)/\(object)") == (try sandbox.sha256("\(r2)/\(object)")))
        #expect(!sandbox.files(under: r2).contains { $0.split(separator: "/").contains { $0.hasPrefix(".") } },
                "no temporary files left: \(sandbox.files(under: r2))")

        let verify = try sandbox.drctl(["verify"])
        #expect(verify.status == 0, "\(verify)")
        #expect(verify.stdout.contains("r1: ok") && verify.stdout.contains("r2: ok"), "\(verify)")

        let out = "\(sandbox.root)/restored"
        let restore = try sandbox.drctl(["restore", "--target", "t", "--to", out, "--region", "r2"])
        #expect(restore.status == 0, "\(restore)")
        #expect(try String(contentsOfFile: out, encoding: .utf8) == (try Command.shell("seq 1 200000")))

        // Nothing left to do.
        let again = try sandbox.drctl(["sync", "--json"])
        #expect(again.status == 0, "\(again)")
        let lines = try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(lines.map { $0["region"] as? String } == ["r1", "r2"], "\(again)")
        #expect(lines.allSatisfy { $0["outcome"] as? String == "complete" }, "\(again)")
        #expect(lines.allSatisfy { $0["objects_copied"] as? Int == 0 && $0["backup_id"] as? String == backupID }, "\(again)")
        let text = try sandbox.drctl(["sync"])
        #expect(text.status == 0 && text.stdout.contains("t \(backupID) r2: already complete"), "\(text)")
    }

    @Test func syncResumesAfterAnInterruption() throws {
        let (sandbox, r1, r2, backupID) = try degradedBackup()
        #expect(try sandbox.drctl(["sync"]).status == 0)
        let manifest = manifestKey(sandbox, in: r2)!
        let object = objectKey(sandbox, in: r2)!

        // Interrupted after the objects, before the manifest: only the manifest is written.
        try FileManager.default.removeItem(atPath: "\(r2)/\(manifest)")
        #expect(try regionsListed(sandbox) == ["r1"])
        let manifestOnly = try sandbox.drctl(["sync", "--to", "r2"])
        #expect(manifestOnly.status == 0, "\(manifestOnly)")
        #expect(manifestOnly.stdout.contains("t \(backupID) r2: copied 0 objects"), "\(manifestOnly)")
        #expect(try regionsListed(sandbox) == ["r1", "r2"])

        // Interrupted before the object was committed.
        try FileManager.default.removeItem(atPath: "\(r2)/\(manifest)")
        try FileManager.default.removeItem(atPath: "\(r2)/\(object)")
        let resumed = try sandbox.drctl(["sync", "--from", "r1", "--backup", backupID])
        #expect(resumed.status == 0, "\(resumed)")
        #expect(resumed.stdout.contains("t \(backupID) r2: copied 1 object"), "\(resumed)")
        #expect(try regionsListed(sandbox) == ["r1", "r2"])
        #expect(try sandbox.sha256("\(r1)/\(object)") == (try sandbox.sha256("\(r2)/\(object)")))
        #expect(try sandbox.drctl(["verify", "--backup", backupID]).status == 0)
    }

    @Test func corruptSourceIsAnIntegrityFailureAndCommitsNothing() throws {
        let (sandbox, r1, r2, backupID) = try completeBackup()
        let object = objectKey(sandbox, in: r1)!
        let manifest = manifestKey(sandbox, in: r1)!
        let path = "\(r1)/\(object)"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0x10
        try bytes.write(to: URL(fileURLWithPath: path))
        try FileManager.default.removeItem(atPath: "\(r2)/\(object)")
        try FileManager.default.removeItem(atPath: "\(r2)/\(manifest)")

        for arguments in [["sync", "--from", "r1"], ["sync"]] {
            let sync = try sandbox.drctl(arguments)
            #expect(sync.status == 3, "\(sync)")
            #expect(sync.stdout.contains("t \(backupID) r2: FAILED"), "\(sync)")
            #expect(sync.stdout.contains("\(object) in region 'r1'") && sync.stdout.contains("SHA-256"), "\(sync)")
            #expect(sandbox.filesExceptLocks(under: r2) == ["repository.json"], "nothing half-copied: \(sandbox.files(under: r2))")
        }
        #expect(try regionsListed(sandbox) == ["r1"])
    }

    @Test func aDamagedSourceIsSkippedForTheNextOne() throws {
        let sandbox = try Sandbox()
        let r1 = "\(sandbox.root)/r1", r2 = "\(sandbox.root)/r2", r3 = "\(sandbox.root)/r3"
        try sandbox.writePolicy(targets: [("t", ["seq", "1", "200000"])], regions: [("r1", r1), ("r2", r2)])
        #expect(try sandbox.drctl(["backup"]).status == 0)
        try sandbox.writePolicy(targets: [("t", ["seq", "1", "200000"])], regions: [("r1", r1), ("r2", r2), ("r3", r3)])
        let object = objectKey(sandbox, in: r1)!
        var bytes = try Data(contentsOf: URL(fileURLWithPath: "\(r1)/\(object)"))
        bytes[bytes.count / 3] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: "\(r1)/\(object)"))

        let sync = try sandbox.drctl(["sync", "--to", "r3"])
        #expect(sync.status == 0, "\(sync)")
        #expect(sync.stdout.contains("r3: copied 1 object") && sync.stdout.contains("from r2"), "\(sync)")
        #expect(sync.stderr.contains("r1"), "the damaged copy is logged: \(sync)")
        #expect(try sandbox.sha256("\(r2)/\(object)") == (try sandbox.sha256("\(r3)/\(object)")))
        let verify = try sandbox.drctl(["verify"])
        #expect(verify.stdout.contains("r3: ok") && verify.stdout.contains("r1: FAILED"), "\(verify)")
    }

    @Test func aWrongSizedObjectInTheTargetIsReportedNotOverwritten() throws {
        let (sandbox, _, r2, backupID) = try completeBackup()
        let object = objectKey(sandbox, in: r2)!
        let manifest = manifestKey(sandbox, in: r2)!
        try FileManager.default.removeItem(atPath: "\(r2)/\(manifest)")
        try FileManager.default.removeItem(atPath: "\(r2)/\(object)")
        try "short".write(toFile: "\(r2)/\(object)", atomically: false, encoding: .utf8)

        let sync = try sandbox.drctl(["sync"])
        #expect(sync.status == 1, "\(sync)")
        #expect(sync.stdout.contains("t \(backupID) r2: FAILED"), "\(sync)")
        #expect(sync.stdout.contains("\(object) already exists in region 'r2' with 5 bytes"), "\(sync)")
        #expect(try String(contentsOfFile: "\(r2)/\(object)", encoding: .utf8) == "short")
        #expect(!FileManager.default.fileExists(atPath: "\(r2)/\(manifest)"))
        #expect(try regionsListed(sandbox) == ["r1"])
    }

    @Test func usageErrors() throws {
        let (sandbox, _, _, _) = try completeBackup()
        let unknown = try sandbox.drctl(["sync", "--to", "nope"])
        #expect(unknown.status == 5 && unknown.stderr.contains("no region named 'nope'"), "\(unknown)")
        let same = try sandbox.drctl(["sync", "--from", "r1", "--to", "r1"])
        #expect(same.status == 2 && same.stderr.contains("both name region 'r1'"), "\(same)")
        let badID = try sandbox.drctl(["sync", "--backup", "nope"])
        #expect(badID.status == 2, "\(badID)")
        let complete = try sandbox.drctl(["sync"])
        #expect(complete.status == 0 && complete.stdout.contains("already complete"), "\(complete)")
    }
}

/// `drctl sync` between a directory and an S3 bucket (moto), both ways.
@Suite struct S3SyncTests {
    @Test func syncLocalToS3AndBack() throws {
        let sandbox = try Sandbox()
        let moto = try MotoProcess()
        try moto.createBucket("backups")
        let input = "\(sandbox.root)/input"
        try Command.shell("head -c 12000000 /dev/urandom > '\(input)'")
        func policy(withS3: Bool) throws {
            let s3 = """
                    - name: s3
                      url: s3://backups/prod
                      endpoint: http://127.0.0.1:\(moto.port)
                      region: us-east-1
                      path_style: true

                """
            let yaml = """
                version: 1
                repository:
                  regions:
                    - name: local
                      url: \(sandbox.repository)
                \(withS3 ? s3 : "")  min_regions: 1
                  encryption:
                    key_file: \(sandbox.keyPath)
                targets:
                  - name: files
                    kind: command
                    command: ["cat", "\(input)"]

                """
            try yaml.write(toFile: sandbox.policyPath, atomically: true, encoding: .utf8)
        }
        let credentials = ["AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "moto-does-not-check"]
        func drctl(_ arguments: [String]) throws -> Drctl.Result {
            try Drctl.run(arguments + ["--policy", sandbox.policyPath], environment: credentials)
        }

        try policy(withS3: false)
        let backup = try drctl(["backup"])
        #expect(backup.status == 0, "\(backup)")
        try policy(withS3: true)
        let toS3 = try drctl(["sync", "--to", "s3"])
        #expect(toS3.status == 0, "\(toS3)")
        #expect(toS3.stdout.contains("s3: copied 1 object") && toS3.stdout.contains("from local"), "\(toS3)")
        let verify = try drctl(["verify"])
        #expect(verify.status == 0 && verify.stdout.contains("s3: ok") && verify.stdout.contains("local: ok"), "\(verify)")

        // The local copy lost: sync brings it back from S3.
        try FileManager.default.removeItem(atPath: "\(sandbox.repository)/data")
        try FileManager.default.removeItem(atPath: "\(sandbox.repository)/manifests")
        let back = try drctl(["sync", "--from", "s3"])
        #expect(back.status == 0, "\(back)")
        #expect(back.stdout.contains("local: copied 1 object") && back.stdout.contains("from s3"), "\(back)")
        let out = "\(sandbox.root)/restored"
        let restore = try drctl(["restore", "--target", "files", "--to", out, "--region", "local"])
        #expect(restore.status == 0, "\(restore)")
        #expect(try sandbox.sha256(out) == (try sandbox.sha256(input)))
        let again = try drctl(["sync"])
        #expect(again.status == 0 && !again.stdout.contains("copied"), "\(again)")
    }
}
