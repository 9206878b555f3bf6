import Foundation
import Testing
import DrctlSources
import DrctlTestSupport
import DrctlStorage

/// `drctl prune` against a real directory region and a real (moto) S3 region.
@Suite struct PruneTests {
    static let credentials = ["AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "moto-does-not-check"]

    /// Every key under `prefix` in the bucket, relative to it (moto answers unsigned requests).
    static func s3Keys(_ moto: MotoProcess, bucket: String, prefix: String) throws -> [String] {
        let result = try ChildProcess.run(["curl", "-sf", "http://127.0.0.1:\(moto.port)/\(bucket)?list-type=2&prefix=\(prefix)/"])
        return matches(of: "<Key>([^<]+)</Key>", in: result.stdout).map { String($0.dropFirst(prefix.count + 1)) }.sorted()
    }

    static func pendingUploads(_ moto: MotoProcess, bucket: String) throws -> [String] {
        try moto.store(bucket: bucket).pendingUploads().map(\.key)
    }

    static func matches(of pattern: String, in text: String) -> [String] {
        let regex = try! NSRegularExpression(pattern: pattern)
        return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).map {
            String(text[Range($0.range(at: 1), in: text)!])
        }
    }

    static func putObject(_ moto: MotoProcess, _ path: String, _ body: String) throws {
        let result = try ChildProcess.run(["curl", "-sf", "-X", "PUT", "--data-binary", body, "http://127.0.0.1:\(moto.port)/\(path)"])
        guard result.exit.succeeded else { throw MotoProcess.Failure(message: "put \(path): \(result.stderr)") }
    }

    /// The backup ids of a target, oldest first, as `list` shows them.
    static func backupIDs(_ sandbox: Sandbox, _ target: String, environment: [String: String]) throws -> [String] {
        let list = try Drctl.run(["list", "--target", target, "--json", "--policy", sandbox.policyPath], environment: environment)
        return matches(of: "\"backup_id\" : \"([^\"]+)\"", in: list.stdout)
    }

    @Test func removesExactlyWhatRetentionAndTheGracePeriodLetGo() throws {
        let sandbox = try Sandbox()
        let moto = try MotoProcess()
        try moto.createBucket("backups")
        let yaml = """
            version: 1
            repository:
              regions:
                - name: local
                  url: \(sandbox.repository)
                - name: s3
                  url: s3://backups/prod
                  endpoint: http://127.0.0.1:\(moto.port)
                  path_style: true
              min_regions: 2
              encryption:
                key_file: \(sandbox.keyPath)
            targets:
              - name: t
                kind: command
                command: ["seq", "1", "5000"]
                retention: {keep_last: 2}
              - name: u
                kind: command
                command: ["echo", "untouched"]

            """
        try yaml.write(toFile: sandbox.policyPath, atomically: true, encoding: .utf8)
        let env = Self.credentials
        func drctl(_ arguments: [String]) throws -> Drctl.Result {
            try Drctl.run(arguments + ["--policy", sandbox.policyPath], environment: env)
        }
        for _ in 0..<4 { #expect(try drctl(["backup", "--target", "t"]).status == 0) }
        #expect(try drctl(["backup", "--target", "u"]).status == 0)
        let ids = try Self.backupIDs(sandbox, "t", environment: env)
        try #require(ids.count == 4)

        // Prune is judged two days from now: the real backups and the planted leftovers are old,
        // except those planted "one hour before then".
        let now = Date().addingTimeInterval(2 * 86_400)
        let oldID = BackupID(startedAt: Date().addingTimeInterval(-3600)).rawValue
        let youngID = BackupID(startedAt: now.addingTimeInterval(-3600)).rawValue
        let local = sandbox.repository
        // A crashed backup's object, in both regions; a running backup's (young) object.
        for id in [oldID, youngID] {
            try FileManager.default.createDirectory(atPath: "\(local)/data/t/\(id)", withIntermediateDirectories: true)
            try "partial".write(toFile: "\(local)/data/t/\(id)/stdout", atomically: false, encoding: .utf8)
            try Self.putObject(moto, "backups/prod/data/t/\(id)/stdout", "partial")
        }
        // A prune that crashed after removing ids[1]'s manifests, before its data.
        try FileManager.default.removeItem(atPath: "\(local)/manifests/t/\(ids[1]).json")
        let deleted = try ChildProcess.run([try PythonTools.aws, "--endpoint-url", "http://127.0.0.1:\(moto.port)", "s3", "rm",
                                            "s3://backups/prod/manifests/t/\(ids[1]).json"],
                                           environment: .inherited(adding: env.merging(["AWS_DEFAULT_REGION": "us-east-1"]) { $1 }))
        #expect(deleted.exit.succeeded, "\(deleted.stderr)")
        #expect(try Self.backupIDs(sandbox, "t", environment: env) == [ids[0], ids[2], ids[3]])
        // Temporary files of interrupted writes: one old, one young.
        let oldTemp = "data/t/\(oldID)/.stdout.tmp-0123abcd"
        let youngTemp = "data/t/\(youngID)/.stdout.tmp-4567ef01"
        try Command.shell("touch -d '@\(Int(Date().timeIntervalSince1970) - 60)' '\(local)/\(oldTemp)'")
        try Command.shell("touch -d '@\(Int(now.timeIntervalSince1970) - 60)' '\(local)/\(youngTemp)'")
        // An unfinished multipart upload, started now (two days old at prune time).
        let upload = try ChildProcess.run(["curl", "-sf", "-X", "POST", "http://127.0.0.1:\(moto.port)/backups/prod/data/t/\(oldID)/big?uploads"])
        #expect(upload.exit.succeeded && upload.stdout.contains("UploadId"), "\(upload.stderr)")
        #expect(try Self.pendingUploads(moto, bucket: "backups") == ["prod/data/t/\(oldID)/big"])

        let localBefore = sandbox.files(under: local)
        let s3Before = try Self.s3Keys(moto, bucket: "backups", prefix: "prod")
        let stamp = Timestamp.format(now)

        // Dry run: says everything, touches nothing.
        let dry = try drctl(["prune", "--dry-run", "--now", stamp])
        #expect(dry.status == 0, "\(dry)")
        #expect(dry.stdout.contains("t: 2 kept, 1 would remove, 6 leftover(s) would remove (dry run)"), "\(dry)")
        #expect(dry.stdout.contains("keep    \(ids[3])  last, newest_complete"), "\(dry)")
        #expect(dry.stdout.contains("keep    \(ids[2])  last"), "\(dry)")
        #expect(dry.stdout.contains("remove  \(ids[0])  from local, s3"), "\(dry)")
        #expect(dry.stdout.contains("u: 1 kept, 0 would remove") && dry.stdout.contains("no retention in the policy"), "\(dry)")
        #expect(sandbox.files(under: local) == localBefore)
        #expect(try Self.s3Keys(moto, bucket: "backups", prefix: "prod") == s3Before)
        #expect(try Self.pendingUploads(moto, bucket: "backups").count == 1)

        let json = try drctl(["prune", "--dry-run", "--json", "--target", "t", "--now", stamp])
        #expect(json.status == 0 && json.stdout.contains("\"rule\" : \"newest_complete\"")
                && json.stdout.contains("\"kind\" : \"unfinished_upload\""), "\(json)")

        // The real prune.
        let prune = try drctl(["prune", "--now", stamp])
        #expect(prune.status == 0, "\(prune)")
        #expect(prune.stdout.contains("t: 2 kept, 1 removed, 6 leftover(s) removed"), "\(prune)")
        let uID = try #require(try Self.backupIDs(sandbox, "u", environment: env).first)
        let kept = [
            "data/t/\(ids[2])/stdout", "data/t/\(ids[3])/stdout", "data/t/\(youngID)/stdout",
            "data/u/\(uID)/stdout", "manifests/t/\(ids[2]).json", "manifests/t/\(ids[3]).json",
            "manifests/u/\(uID).json", "repository.json",
        ]
        // The signed prune record naming what went, written to both regions before anything went.
        let record = try #require(sandbox.files(under: local).first { $0.hasPrefix("records/t/prunes/") }, "\(prune)")
        #expect(sandbox.filesExceptLocks(under: local) == (kept + [youngTemp, record]).sorted())
        #expect(try Self.s3Keys(moto, bucket: "backups", prefix: "prod").filter { !$0.hasPrefix("locks/") } == (kept + [record]).sorted())
        #expect(try Self.pendingUploads(moto, bucket: "backups").isEmpty)
        #expect(try Self.backupIDs(sandbox, "t", environment: env) == [ids[2], ids[3]])
        // What is left is whole.
        let verify = try drctl(["verify"])
        #expect(verify.status == 0, "\(verify)")

        // Nothing more to do: a second prune removes nothing.
        let again = try drctl(["prune", "--now", stamp])
        #expect(again.status == 0 && again.stdout.contains("t: 2 kept, 0 removed, 0 leftover(s) removed"), "\(again)")
    }

    /// A sandbox whose target `t` has two backups and keeps the last one.
    static func twoBackupsKeepingOne() throws -> Sandbox {
        try backupsKeepingOne(2)
    }

    /// `count` backups of target `t` (retention: keep the last one) in the given regions
    /// (default: the sandbox's one).
    static func backupsKeepingOne(_ count: Int, regions: ((Sandbox) -> [(String, String)])? = nil) throws -> Sandbox {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [], regions: regions?(sandbox), rawTargets: """
              - name: t
                kind: command
                command: ["echo", "hello"]
                retention: {keep_last: 1}

            """)
        for _ in 0..<count { #expect(try sandbox.drctl(["backup"]).status == 0) }
        return sandbox
    }

    /// `count` backups kept one in two regions, `local` (the sandbox's) and `second`.
    static func backupsKeepingOneInTwoRegions(_ count: Int) throws -> (Sandbox, second: String) {
        let sandbox = try backupsKeepingOne(count) { [("local", $0.repository), ("second", "\($0.root)/second")] }
        return (sandbox, "\(sandbox.root)/second")
    }

    @Test func aLockedTargetIsNotPruned() throws {
        let sandbox = try Self.twoBackupsKeepingOne()
        let locks = "\(sandbox.repository)/locks/t"
        let newest = try #require(sandbox.files(under: locks).last)
        let generation = Int(newest.prefix(12))! + 1
        try sandbox.plantLock(LockTests.lockJSON(generation: generation, state: "held", host: "db-host-2",
                                                 expires: Date().addingTimeInterval(300)), generation: generation)
        let before = sandbox.files(under: "\(sandbox.repository)/manifests")
        let prune = try sandbox.drctl(["prune"])
        #expect(prune.status == 8, "\(prune)")
        #expect(prune.stdout.contains("t: skipped, locked by backup") && prune.stderr.contains("db-host-2"), "\(prune)")
        #expect(sandbox.files(under: "\(sandbox.repository)/manifests") == before)
        #expect(before.count == 2)
    }

    /// A real backup running: prune is refused (exit 8) and touches nothing; the backup commits.
    @Test func pruneWaitsForARunningBackup() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [], rawTargets: """
              - name: t
                kind: command
                command: ["sh", "-c", "sleep 3; echo hello"]
                retention: {keep_last: 1}

            """)
        let running = try RunningDrctl(["backup", "--policy", sandbox.policyPath])
        #expect(eventually(within: 10) { !sandbox.files(under: "\(sandbox.repository)/locks/t").isEmpty })
        let prune = try sandbox.drctl(["prune", "--leftover-grace", "1s", "--now", Timestamp.format(Date().addingTimeInterval(86_400))])
        #expect(prune.status == 8 && prune.stderr.contains("locked by backup"), "\(prune)")
        let backup = running.wait()
        #expect(backup.status == 0, "\(backup)")
        #expect(sandbox.filesExceptLocks(under: sandbox.repository).filter { $0.hasPrefix("data/") }.count == 1)
        #expect(try sandbox.drctl(["prune"]).status == 0)
    }

    @Test func aRegionThatCannotBeReadStopsTheRemovals() throws {
        let (sandbox, second) = try Self.backupsKeepingOneInTwoRegions(2)
        // The region's manifests cannot be listed (a symbolic link to itself): its view cannot be trusted.
        let manifests = "\(second)/manifests/t"
        try FileManager.default.moveItem(atPath: manifests, toPath: "\(second)/moved")
        try FileManager.default.createSymbolicLink(atPath: manifests, withDestinationPath: "t")
        let prune = try sandbox.drctl(["prune"])
        #expect(prune.status == 1, "\(prune)")
        #expect(prune.stderr.contains("region 'second'") && prune.stderr.contains("nothing removed"), "\(prune)")
        #expect(sandbox.files(under: "\(sandbox.repository)/manifests").count == 2)
    }

    /// A manifest that cannot be read keeps its backup (manifest and data), named; the other
    /// backups are pruned as usual.
    @Test func anUnreadableManifestKeepsOnlyItsOwnBackup() throws {
        let (sandbox, second) = try Self.backupsKeepingOneInTwoRegions(3)
        let ids = sandbox.files(under: "\(second)/manifests/t").map { String($0.dropLast(".json".count)) }
        try #require(ids.count == 3)
        try "garbage".write(toFile: "\(second)/manifests/t/\(ids[0]).json", atomically: false, encoding: .utf8)
        let prune = try sandbox.drctl(["prune"])
        #expect(prune.status == 1, "\(prune)")
        #expect(prune.stderr.contains("manifests/t/\(ids[0]).json") && prune.stderr.contains("backup \(ids[0]) kept"), "\(prune)")
        // The damaged backup and the newest stay in both regions; the middle one is gone.
        for region in [sandbox.repository, second] {
            #expect(sandbox.files(under: "\(region)/manifests/t") == [ids[0] + ".json", ids[2] + ".json"], "\(region)")
            #expect(!sandbox.files(under: "\(region)/data/t/\(ids[0])").isEmpty, "\(region)")
            #expect(sandbox.files(under: "\(region)/data/t/\(ids[1])").isEmpty, "\(region)")
        }
    }

    /// A manifest that cannot be deleted (immutable: not even root may unlink it) keeps its
    /// backup's data: a listed backup never loses its objects.
    @Test func aManifestThatCannotBeRemovedKeepsItsData() throws {
        let sandbox = try Self.twoBackupsKeepingOne()
        let manifests = "\(sandbox.repository)/manifests/t"
        let oldest = try #require(sandbox.files(under: manifests).first)
        let oldestID = String(oldest.dropLast(".json".count))
        let pinned = "\(manifests)/\(oldest)"
        let chattr = try Command.run(["chattr", "+i", pinned])
        try #require(chattr.status == 0, "chattr +i is needed for this test: \(chattr)")
        defer { _ = try? Command.run(["chattr", "-i", pinned]) }

        let prune = try sandbox.drctl(["prune"])
        #expect(prune.status == 1, "\(prune)")
        #expect(prune.stderr.contains("cannot remove the manifest of \(oldestID)"), "\(prune)")
        #expect(sandbox.files(under: manifests).count == 2)
        #expect(!sandbox.files(under: "\(sandbox.repository)/data/t/\(oldestID)").isEmpty)
        #expect(try sandbox.drctl(["verify", "--backup", oldestID]).status == 0)
    }

    @Test func badOptionsAreUsageErrors() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("t", ["echo", "hello"])])
        let grace = try sandbox.drctl(["prune", "--leftover-grace", "soon"])
        #expect(grace.status == 2 && grace.stderr.contains("--leftover-grace"), "\(grace)")
        let now = try sandbox.drctl(["prune", "--now", "yesterday"])
        #expect(now.status == 2 && now.stderr.contains("--now"), "\(now)")
        let target = try sandbox.drctl(["prune", "--target", "nope"])
        #expect(target.status == 5, "\(target)")
    }
}
