import Foundation
import Testing
import DrctlCrypto
import DrctlStorage

/// Issue #22, repository format version 2: drill and failure records, lock generations and
/// prune records are signed by their writer for the key they lie at (docs/FORMAT.md, "Records",
/// "Lock", "Prune record"). What someone who can write to a region plants (edited bytes, a
/// record signed by a key the policy does not list, a genuine one moved to another target) is
/// refused by name and counts for nothing. Version 1 repositories keep version 1 documents.
@Suite struct SignedRecordTests {
    /// The generation after the newest of `target`'s lock.
    static func nextGeneration(_ sandbox: Sandbox, target: String) throws -> Int {
        let newest = try #require(sandbox.files(under: "\(sandbox.repository)/locks/\(target)").last)
        return try #require(Int(newest.prefix(12))) + 1
    }

    /// `check --json`: the result and the target named `name`.
    static func checked(_ sandbox: Sandbox, _ name: String) throws -> (result: Drctl.Result, target: [String: Any]) {
        let check = try sandbox.drctl(["check", "--json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: Any], "\(check)")
        let target = try #require((document["targets"] as? [[String: Any]])?.first { $0["target"] as? String == name }, "\(check)")
        return (check, target)
    }

    /// The record at `path`, changed by `change` (its id too) and signed by `key` as drctl signs
    /// version 2 records, written where its (new) target and id say; returns its key.
    static func resigned<R: RepositoryRecord>(_ type: R.Type, _ path: String, in region: String, by key: SigningKey,
                                              _ change: (inout R) -> Void) throws -> String {
        var record = try ManifestCoding.decoder.decode(R.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        change(&record)
        return try RecordRewriter.write(record, region: region, signingKey: key)
    }

    enum Planting: String, CaseIterable, Sendable { case editedBytes, unknownWriter }

    /// A real failed drill (its backup's object truncated), then a `passed` drill planted after
    /// it, with a check that passed: the real record's bytes edited, or a record written as
    /// drctl writes one but signed by a key the policy does not list. Either became check's
    /// last drill and hid the failure; now check stays CRITICAL and names the planted record.
    @Test(arguments: Planting.allCases)
    func aPlantedPassedDrillDoesNotBecomeTheLastDrill(_ planting: Planting) throws {
        let sandbox = try PlantedManifestTests.sandbox()
        let id = try PlantedManifestTests.backup(sandbox)
        try Command.shell("truncate -s -20 '\(sandbox.repository)/data/t/\(id)/stdout'")
        let drill = try sandbox.drctl(["drill", "--scratch-dir", "\(sandbox.root)/scratch"])
        #expect(drill.status == 1, "\(drill)")
        let drills = "\(sandbox.repository)/records/t/drills"
        let real = try #require(try FileManager.default.contentsOfDirectory(atPath: drills).first)
        let time = Date()
        let planted: String
        switch planting {
        case .editedBytes:
            let check: [String: Any] = ["name": "size stdout", "expected": "6", "actual": "6", "passed": true]
            planted = try PlantedJSON.record(copying: "\(drills)/\(real)", idKey: "drill_id", as: time,
                                             changes: ["result": "passed", "reasons": [String](), "checks": [check]])
        case .unknownWriter:
            planted = try Self.resigned(DrillRecord.self, "\(drills)/\(real)", in: sandbox.repository, by: .generate()) { record in
                record.drillID = BackupID(startedAt: time).rawValue
                (record.startedAt, record.finishedAt) = (time, time.addingTimeInterval(1))
                (record.result, record.reasons) = (.passed, [])
                record.checks = [DrillCheckResult(name: "size stdout", expected: "6", actual: "6", passed: true)]
            }
        }
        let (check, target) = try Self.checked(sandbox, "t")
        #expect(check.status == 2, "\(check)")
        #expect((target["last_drill"] as? [String: Any])?["drill_id"] as? String == String(real.dropLast(".json".count)), "\(check)")
        let findings = "\(target["findings"] ?? "")"
        #expect(findings.contains(URL(fileURLWithPath: planted).lastPathComponent), "the planted record is named: \(check)")
        #expect(findings.contains(planting == .unknownWriter ? "unknown writer" : "refused"), "\(check)")
    }

    /// A real failed backup of `t`; then a failure record planted after it (the real one's
    /// bytes, its error edited), and the real one moved to target `u` (its target field edited to
    /// match). The first was t's last failure, the second u's; now t's last failure is the real
    /// one, u has none, and check names both planted records.
    @Test func aPlantedOrMovedFailureRecordDoesNotCount() throws {
        let sandbox = try Sandbox()
        let input = "\(sandbox.root)/input"
        try "data\n".write(toFile: input, atomically: true, encoding: .utf8)
        try sandbox.writePolicy(targets: [("t", ["cat", input]), ("u", ["echo", "hello"])])
        #expect(try sandbox.drctl(["backup"]).status == 0)
        try FileManager.default.removeItem(atPath: input)
        #expect(try sandbox.drctl(["backup", "--target", "t"]).status != 0)
        let failures = "\(sandbox.repository)/records/t/failures"
        let real = try #require(try FileManager.default.contentsOfDirectory(atPath: failures).first)
        let planted = try PlantedJSON.record(copying: "\(failures)/\(real)", idKey: "run_id", as: Date(),
                                             changes: ["error": "the database was dropped by the on-call engineer"])
        let moved = try String(contentsOfFile: "\(failures)/\(real)", encoding: .utf8)
            .replacingOccurrences(of: "\"target\" : \"t\"", with: "\"target\" : \"u\"")
        try LocalDirectoryStore(root: sandbox.repository).put("records/u/failures/\(real)", bytes: Array(moved.utf8))

        let (check, t) = try Self.checked(sandbox, "t")
        #expect((t["last_failure"] as? [String: Any])?["run_id"] as? String == String(real.dropLast(".json".count)), "\(check)")
        #expect("\(t["findings"] ?? "")".contains(URL(fileURLWithPath: planted).lastPathComponent), "\(check)")
        let (_, u) = try Self.checked(sandbox, "u")
        #expect(u["last_failure"] == nil, "\(check)")
        #expect("\(u["findings"] ?? "")".contains("records/u/failures/\(real)") && "\(u["findings"] ?? "")".contains("tampered"),
                "\(check)")
    }

    enum LockPlanting: String, CaseIterable, Sendable { case unsigned, badSignature }

    /// A lock that keeps the readers' rules (written now, valid for 10 minutes) but fails
    /// authentication: unsigned (version 1, in a version 2 repository), or version 2 with a
    /// signature that is not the writer's. Either blocked the target's backups for its
    /// lifetime (renewed by whoever planted it, forever); now it is not honoured: the backup
    /// takes it over, and both it and check name it.
    @Test(arguments: LockPlanting.allCases)
    func aLockThatFailsAuthenticationDoesNotBlockBackups(_ planting: LockPlanting) throws {
        let sandbox = try PlantedManifestTests.sandbox()
        _ = try PlantedManifestTests.backup(sandbox)
        let generation = try Self.nextGeneration(sandbox, target: "t")
        var json = LockTests.lockJSON(generation: generation, state: "held", host: "db-host-2", expires: Date().addingTimeInterval(600))
        if planting == .badSignature {
            let signer = try SigningKey(derivedFrom: SecretKey.load(path: sandbox.keyPath)).signerID
            json = json.replacingOccurrences(of: "{\n  \"acquired_at\"", with: """
                {
                  "authentication" : {
                    "signature" : "\(String(repeating: "ab", count: 64))",
                    "signer" : "\(signer)"
                  },
                  "acquired_at"
                """).replacingOccurrences(of: "\"version\" : 1", with: "\"version\" : 2")
        }
        let key = RepositoryLayout.lockKey(target: "t", generation: generation)
        try LocalDirectoryStore(root: sandbox.repository).put(key, bytes: Array(json.utf8))

        let check = try sandbox.drctl(["check"])
        #expect(check.stdout.contains(key) && check.stdout.contains("not honoured"), "check names the lock: \(check)")
        let backup = try sandbox.drctl(["backup"])
        #expect(backup.status == 0, "\(backup)")
        #expect(backup.stderr.contains(key) && backup.stderr.contains(planting == .unsigned ? "version 1 lock" : "tampered"),
                "the lock is named: \(backup)")
    }

    /// A genuine held lock of target `t` (signed by a run of this repository) copied to target
    /// `u`, its target field edited to match: it blocked u's backups (or, as it was, made the
    /// region unusable for u). Now u's backup takes it over, naming it; t's lock still holds.
    @Test func aSignedLockMovedToAnotherTargetIsNotHonoured() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("t", ["echo", "a"]), ("u", ["echo", "b"])])
        #expect(try sandbox.drctl(["backup"]).status == 0)
        let generation = try Self.nextGeneration(sandbox, target: "t")
        try sandbox.plantLock(LockTests.lockJSON(generation: generation, state: "held", host: "db-host-2",
                                                 expires: Date().addingTimeInterval(600)), generation: generation)
        let genuine = try String(contentsOfFile: "\(sandbox.repository)/\(RepositoryLayout.lockKey(target: "t", generation: generation))",
                                 encoding: .utf8)
        let uGeneration = try Self.nextGeneration(sandbox, target: "u")
        let moved = genuine.replacingOccurrences(of: "\"target\" : \"t\"", with: "\"target\" : \"u\"")
            .replacingOccurrences(of: "\"generation\" : \(generation),", with: "\"generation\" : \(uGeneration),")
        let key = RepositoryLayout.lockKey(target: "u", generation: uGeneration)
        try LocalDirectoryStore(root: sandbox.repository).put(key, bytes: Array(moved.utf8))

        let check = try sandbox.drctl(["check"])
        #expect(check.stdout.contains(key) && check.stdout.contains("tampered"), "\(check)")
        let t = try sandbox.drctl(["backup", "--target", "t"])
        #expect(t.status == 8 && t.stderr.contains("db-host-2"), "the genuine lock holds: \(t)")
        let u = try sandbox.drctl(["backup", "--target", "u"])
        #expect(u.status == 0 && u.stderr.contains(key) && u.stderr.contains("tampered"), "\(u)")
    }

    /// Prune writes its signed prune record, naming each backup it removes and its manifest's
    /// SHA-256, before it removes anything: a region that cannot take the record loses nothing.
    @Test func pruneWritesItsSignedRecordBeforeRemoving() throws {
        let sandbox = try PlantedManifestTests.sandbox(extra: "    retention: {keep_last: 1}")
        let ids = try (0..<3).map { _ in try PlantedManifestTests.backup(sandbox) }
        let digests = try ids.map { try sandbox.sha256(PlantedManifestTests.manifestPath(sandbox, $0)) }
        let prunes = "\(sandbox.repository)/records/t/prunes"
        // A file where the records' folder goes: the record cannot be written.
        try FileManager.default.createDirectory(atPath: "\(sandbox.repository)/records/t", withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: prunes, contents: Data("in the way\n".utf8)))
        let refused = try sandbox.drctl(["prune"])
        #expect(refused.status != 0 && refused.stderr.contains("prune record"), "\(refused)")
        for id in ids {
            #expect(FileManager.default.fileExists(atPath: PlantedManifestTests.manifestPath(sandbox, id)), "\(refused)")
        }

        try FileManager.default.removeItem(atPath: prunes)
        let prune = try sandbox.drctl(["prune"])
        #expect(prune.status == 0, "\(prune)")
        #expect(!FileManager.default.fileExists(atPath: PlantedManifestTests.manifestPath(sandbox, ids[0])), "\(prune)")
        #expect(!FileManager.default.fileExists(atPath: PlantedManifestTests.manifestPath(sandbox, ids[1])), "\(prune)")
        let file = try #require(sandbox.files(under: prunes).first, "\(prune)")
        let record = try PlantedJSON.read("\(prunes)/\(file)")
        #expect(record["format"] as? String == "drctl-prune-record" && record["version"] as? Int == 2, "\(record)")
        let removed = (record["removed"] as? [[String: Any]] ?? []).map { "\($0["backup_id"] ?? "") \($0["sha256"] ?? "")" }
        #expect(removed == ["\(ids[0]) \(digests[0])", "\(ids[1]) \(digests[1])"], "\(record)")

        // It verifies for the writers the policy lists, and is refused once edited.
        let writer = try SigningKey(derivedFrom: SecretKey.load(path: sandbox.keyPath)).writerKey
        let region = Region(name: "local", store: LocalDirectoryStore(root: sandbox.repository))
        let repository = Repository(regions: [region], trust: WriterTrust(writers: .success([writer])))
        let read = repository.pruneRecords(target: "t")
        #expect(read.records.map(\.removed.count) == [2] && read.refused.isEmpty && read.unreadable.isEmpty, "\(read.refused)")
        let edited = try String(contentsOfFile: "\(prunes)/\(file)", encoding: .utf8).replacingOccurrences(of: ids[1], with: ids[2])
        try edited.write(toFile: "\(prunes)/\(file)", atomically: true, encoding: .utf8)
        let tampered = Repository(regions: [region], trust: WriterTrust(writers: .success([writer]))).pruneRecords(target: "t")
        #expect(tampered.records.isEmpty && tampered.refused.map { "\($0)" }.joined().contains("tampered"), "\(tampered.refused)")
    }

    /// A repository whose repository.json is version 1 (made before version 2) keeps getting
    /// version 1 records and locks, unsigned as before, and reads them as before.
    @Test func aVersionOneRepositoryKeepsVersionOneRecordsAndLocks() throws {
        let sandbox = try Sandbox()
        let input = "\(sandbox.root)/input"
        try "data\n".write(toFile: input, atomically: true, encoding: .utf8)
        try PlantedManifestTests.writePolicy(sandbox, command: ["cat", input])
        try LocalDirectoryStore(root: sandbox.repository).put("repository.json", bytes: Array("""
            {"format":"drctl-repository","version":1,"created_at":"2026-01-01T00:00:00.000Z","created_by":"drctl 0.1.0"}

            """.utf8))
        _ = try PlantedManifestTests.backup(sandbox)
        let drill = try sandbox.drctl(["drill", "--scratch-dir", "\(sandbox.root)/scratch"])
        #expect(drill.status == 0, "\(drill)")
        try FileManager.default.removeItem(atPath: input)
        #expect(try sandbox.drctl(["backup"]).status != 0)

        let written = sandbox.files(under: sandbox.repository).filter { $0.hasPrefix("records/") || $0.hasPrefix("locks/") }
        #expect(written.contains { $0.hasPrefix("records/t/drills/") } && written.contains { $0.hasPrefix("records/t/failures/") }
                && written.contains { $0.hasPrefix("locks/t/") }, "\(written)")
        for path in written {
            let document = try PlantedJSON.read("\(sandbox.repository)/\(path)")
            #expect(document["version"] as? Int == 1 && document["authentication"] == nil, "\(path): \(document)")
        }
        let (check, target) = try Self.checked(sandbox, "t")
        #expect((target["last_drill"] as? [String: Any])?["result"] as? String == "passed", "\(check)")
        #expect(target["last_failure"] != nil, "\(check)")
        #expect(!check.stdout.contains("refused") && !check.stdout.contains("not honoured"), "\(check)")
    }
}
