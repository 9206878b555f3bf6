import Foundation
import Testing
import DrctlStorage

/// Issue #22: someone who can write to one region's storage, without any key, plants manifests
/// there. The readers' rules (docs/FORMAT.md, "Readers' rules") refuse them; a refused manifest
/// is treated as an unreadable one: named, never counted, never copied, never restored.
@Suite struct PlantedManifestTests {
    /// A sandbox whose target `t` runs `command`, with `extra` YAML lines under it.
    static func sandbox(command: [String] = ["echo", "hello"], extra: String = "") throws -> Sandbox {
        let sandbox = try Sandbox()
        try writePolicy(sandbox, command: command, extra: extra)
        return sandbox
    }

    static func writePolicy(_ sandbox: Sandbox, command: [String], extra: String = "") throws {
        try sandbox.writePolicy(targets: [], rawTargets: """
              - name: t
                kind: command
                command: \(Sandbox.flowList(command))
            \(extra)

            """)
    }

    static func backup(_ sandbox: Sandbox) throws -> String {
        let backup = try sandbox.drctl(["backup", "--json"])
        guard backup.status == 0 else { throw Command.ShellFailed(script: "backup", result: backup) }
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(backup.stdout.utf8)) as? [[String: Any]])
        return try #require(listed.first?["backup_id"] as? String)
    }

    static func manifestPath(_ sandbox: Sandbox, _ id: String) -> String { "\(sandbox.repository)/manifests/t/\(id).json" }

    /// Planted manifests dated later than every real backup filled `keep_last`, and prune removed
    /// every real backup. Now they count for nothing and are named.
    @Test func futureManifestsDoNotPushRealBackupsOutOfRetention() throws {
        let sandbox = try Self.sandbox(extra: "    retention: {keep_last: 2}")
        let ids = try (0..<3).map { _ in try Self.backup(sandbox) }
        let planted = try [86_400.0, 2 * 86_400].map {
            try PlantedJSON.futureManifest(copying: ids[2], target: "t", in: sandbox.repository, ahead: $0)
        }

        let prune = try sandbox.drctl(["prune"])
        #expect(FileManager.default.fileExists(atPath: Self.manifestPath(sandbox, ids[1])), "\(prune)")
        #expect(FileManager.default.fileExists(atPath: Self.manifestPath(sandbox, ids[2])), "\(prune)")
        #expect(FileManager.default.fileExists(atPath: "\(sandbox.repository)/data/t/\(ids[2])/stdout"), "\(prune)")
        #expect(!FileManager.default.fileExists(atPath: Self.manifestPath(sandbox, ids[0])), "retention still applies: \(prune)")
        for id in planted {
            #expect(prune.stderr.contains(id) && prune.stderr.contains("in the future"), "the planted manifest is named: \(prune)")
        }
        #expect(prune.status != 0, "\(prune)")
    }

    /// The newest real backup is two days old (past the RPO) and a backup run failed since. A
    /// planted manifest dated tomorrow hid both: check was OK. Now it is CRITICAL, names the
    /// failure and the planted manifest.
    @Test func aFutureManifestHidesNeitherTheRPOAlertNorTheLastFailure() throws {
        let sandbox = try Sandbox()
        let input = "\(sandbox.root)/input"
        try "data\n".write(toFile: input, atomically: true, encoding: .utf8)
        try Self.writePolicy(sandbox, command: ["cat", input], extra: "    objectives: {rpo: 3h}")

        _ = try Self.backup(sandbox)
        try CheckTests.moveBackupBack(sandbox, target: "t", to: Date().addingTimeInterval(-2 * 86_400), regions: [sandbox.repository])
        let real = try #require(try FileManager.default.contentsOfDirectory(atPath: "\(sandbox.repository)/manifests/t").first)
        try FileManager.default.removeItem(atPath: input)
        #expect(try sandbox.drctl(["backup"]).status != 0)
        let before = try sandbox.drctl(["check"])
        #expect(before.status == 2 && before.stdout.contains("(rpo 3h)") && before.stdout.contains("last backup run failed"), "\(before)")

        let planted = try PlantedJSON.futureManifest(copying: String(real.dropLast(".json".count)), target: "t",
                                                     in: sandbox.repository, ahead: 86_400)
        let after = try sandbox.drctl(["check"])
        #expect(after.status == 2, "\(after)")
        #expect(after.stdout.contains("(rpo 3h)"), "\(after)")
        #expect(after.stdout.contains("last backup run failed"), "\(after)")
        #expect(after.stdout.contains(planted) && after.stdout.contains("in the future"), "\(after)")
    }

    /// A planted manifest whose objects' keys point at another target's lock and at a manifest:
    /// sync copied them into the healthy region (a lock that blocks every backup there, a
    /// manifest of the attacker's choosing). Now it is refused in the planted region, and sync
    /// writes nothing of it anywhere.
    static func plantEscapingManifest(copying manifest: [String: Any], put: (String, Data) throws -> Void) throws -> [String] {
        let now = Date()
        let plantedID = BackupID(startedAt: now).rawValue
        let lockKey = "locks/t/000000000009.json"
        let lock = try PlantedJSON.bytes([
            "acquired_at": Timestamp.format(now), "expires_at": "2099-01-01T00:00:00.000Z", "format": "drctl-lock",
            "generation": 9, "owner": ["host": "elsewhere", "operation": "backup", "pid": 1, "run_id": plantedID],
            "state": "held", "target": "t", "version": 1, "written_at": Timestamp.format(now),
        ])
        let otherID = BackupID(startedAt: now.addingTimeInterval(-60)).rawValue
        let otherKey = "manifests/t/\(otherID).json"
        let other = try PlantedJSON.bytes(PlantedJSON.manifest(manifest, as: otherID, at: now.addingTimeInterval(-60)))
        var planted = PlantedJSON.manifest(manifest, as: plantedID, at: now)
        planted["objects"] = [(lockKey, lock, "stdout"), (otherKey, other, "extra")].map { key, bytes, name -> [String: Any] in
            ["key": key, "name": name, "raw_size": 1, "stored_size": bytes.count, "sha256": sha256Hex(bytes)]
        }
        try put(lockKey, lock)
        try put(otherKey, other)
        try put("manifests/t/\(plantedID).json", try PlantedJSON.bytes(planted))
        return [lockKey, otherKey, "manifests/t/\(plantedID).json"]
    }

    static func sha256Hex(_ data: Data) -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("planted-\(UUID().uuidString)").path
        #expect(FileManager.default.createFile(atPath: path, contents: data))
        defer { try? FileManager.default.removeItem(atPath: path) }
        return String((try? Command.shell("sha256sum '\(path)'"))?.prefix(64) ?? "")
    }

    @Test func syncWritesNothingOutsideAPlantedBackupsOwnFolderBetweenDirectories() throws {
        let sandbox = try Sandbox()
        let (r1, r2) = ("\(sandbox.root)/r1", "\(sandbox.root)/r2")
        try sandbox.writePolicy(targets: [("t", ["echo", "hello"])], regions: [("r1", r1), ("r2", r2)])
        let id = try Self.backup(sandbox)
        let real = try PlantedJSON.read("\(r1)/manifests/t/\(id).json")
        let keys = try Self.plantEscapingManifest(copying: real) { key, bytes in
            try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: "\(r1)/\(key)").deletingLastPathComponent().path,
                                                    withIntermediateDirectories: true)
            try bytes.write(to: URL(fileURLWithPath: "\(r1)/\(key)"))
        }
        let sync = try sandbox.drctl(["sync"])
        for key in keys {
            #expect(!FileManager.default.fileExists(atPath: "\(r2)/\(key)"), "\(key) was copied: \(sync)")
        }
        #expect(sync.stderr.contains(keys[2]) && sync.stderr.contains("data/t/"), "the planted manifest is named: \(sync)")
        #expect(try sandbox.drctl(["backup"]).status == 0, "nothing planted blocks r2")
    }

    @Test func syncWritesNothingOutsideAPlantedBackupsOwnFolderFromS3() throws {
        let sandbox = try Sandbox()
        let moto = try MotoProcess()
        try moto.createBucket("backups")
        // The S3 region's settings follow its url line.
        let s3 = "s3://backups/prod\n      endpoint: http://127.0.0.1:\(moto.port)\n      path_style: true"
        try sandbox.writePolicy(targets: [("t", ["echo", "hello"])], regions: [("local", sandbox.repository), ("s3", s3)])
        func drctl(_ arguments: [String]) throws -> Drctl.Result {
            try Drctl.run(arguments + ["--policy", sandbox.policyPath], environment: PruneTests.credentials)
        }
        let backup = try drctl(["backup", "--json"])
        try #require(backup.status == 0, "\(backup)")
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(backup.stdout.utf8)) as? [[String: Any]])
        let id = try #require(listed.first?["backup_id"] as? String)
        let real = try PlantedJSON.read("\(sandbox.repository)/manifests/t/\(id).json")
        let store = try moto.store(bucket: "backups", prefix: "prod")
        let keys = try Self.plantEscapingManifest(copying: real) { key, bytes in try store.put(key, bytes: Array(bytes)) }

        let sync = try drctl(["sync", "--from", "s3", "--to", "local"])
        for key in keys {
            #expect(!FileManager.default.fileExists(atPath: "\(sandbox.repository)/\(key)"), "\(key) was copied: \(sync)")
        }
        #expect(sync.stderr.contains(keys[2]) && sync.stderr.contains("data/t/"), "the planted manifest is named: \(sync)")
        #expect(try drctl(["backup"]).status == 0, "nothing planted blocks the local region")
    }

    /// A manifest altered to name a second object `../escape`: restore into a directory wrote
    /// the real object and then went for a path outside it. Now nothing is restored and the
    /// refused name is given.
    @Test func anObjectNameWithDotDotIsRefusedBeforeAnythingIsWritten() throws {
        let sandbox = try Self.sandbox()
        let id = try Self.backup(sandbox)
        let path = Self.manifestPath(sandbox, id)
        var manifest = try PlantedJSON.read(path)
        var objects = manifest["objects"] as? [[String: Any]] ?? []
        var escaping = try #require(objects.first)
        escaping["name"] = "../escape"
        escaping["key"] = "data/t/\(id)/../escape"
        objects.append(escaping)
        manifest["objects"] = objects
        try PlantedJSON.write(manifest, to: path)

        let out = "\(sandbox.root)/out/restored"
        let restore = try sandbox.drctl(["restore", "--target", "t", "--backup", id, "--to", out])
        #expect(restore.status != 0, "\(restore)")
        #expect(restore.stderr.contains("'../escape'"), "\(restore)")
        #expect(sandbox.files(under: "\(sandbox.root)/out").isEmpty, "nothing restored: \(restore)")
        #expect(!sandbox.files(under: sandbox.root).contains { $0.contains("escape") }, "\(restore)")
    }

    /// A manifest whose `objects` is empty: restore "succeeded" with nothing, verify said ok.
    /// Now restore, verify and drill refuse it and say why.
    @Test func anEmptyObjectListIsRefusedByRestoreVerifyAndDrill() throws {
        let sandbox = try Self.sandbox()
        let id = try Self.backup(sandbox)
        let path = Self.manifestPath(sandbox, id)
        var manifest = try PlantedJSON.read(path)
        manifest["objects"] = [[String: Any]]()
        try PlantedJSON.write(manifest, to: path)

        let restore = try sandbox.drctl(["restore", "--target", "t", "--backup", id, "--to", "\(sandbox.root)/out"])
        #expect(restore.status != 0 && restore.stderr.contains("no objects"), "\(restore)")
        let verify = try sandbox.drctl(["verify"])
        #expect(verify.status == 3 && verify.stdout.contains("no objects"), "\(verify)")
        let drill = try sandbox.drctl(["drill", "--backup", id, "--scratch-dir", "\(sandbox.root)/scratch"])
        #expect(drill.status != 0 && (drill.stdout + drill.stderr).contains("no objects"), "\(drill)")
    }

    /// A PostgreSQL backup whose manifest lost its row counts, drilled under a policy without
    /// checks: nothing was compared, yet the drill passed. Now it fails, saying so.
    @Test func aDrillThatChecksNothingFails() throws {
        let fixture = try DrillTests.PostgresFixture()
        try fixture.writePolicy(checks: [], objectives: "{rpo: 1h, rto: 10m}")
        let policy = try String(contentsOfFile: fixture.sandbox.policyPath, encoding: .utf8)
            .replacingOccurrences(of: "      checks:\n", with: "      enabled: true\n")
        try policy.write(toFile: fixture.sandbox.policyPath, atomically: true, encoding: .utf8)
        let directory = "\(fixture.sandbox.repository)/manifests/db"
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: directory).first)
        // As a writer would have written it without row counts (an edit is refused: PlantedJSON).
        try ManifestRewriter.rewrite("\(directory)/\(name)", region: fixture.sandbox.repository, keyFile: fixture.sandbox.keyPath) {
            $0.source.tables = nil
        }

        let (drill, record) = try fixture.drill()
        #expect(drill.status == 1, "\(drill)")
        #expect(record["result"] as? String == "failed", "\(record)")
        #expect((record["reasons"] as? [String] ?? []).contains { $0.contains("nothing was checked") }, "\(record)")
    }
}
