import Foundation
import Testing
import DrctlCrypto
import DrctlStorage

/// Issue #22, repository format version 2: what someone who can write to one region plants or
/// edits there, without a key, is refused by name (docs/FORMAT.md, "Version 2"). Each attack
/// is made on a real repository written by the drctl binary; each succeeded on version 1.
@Suite struct AuthenticatedRepositoryTests {
    static func backup(_ sandbox: Sandbox, target: String? = nil) throws -> String {
        let backup = try sandbox.drctl(["backup", "--json"] + (target.map { ["--target", $0] } ?? []))
        guard backup.status == 0 else { throw Command.ShellFailed(script: "backup", result: backup) }
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(backup.stdout.utf8)) as? [[String: Any]])
        return try #require(listed.first?["backup_id"] as? String)
    }

    /// The backup ids `list --json` shows, with their authentication.
    static func listed(_ sandbox: Sandbox) throws -> [String: String] {
        let list = try sandbox.drctl(["list", "--json"])
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]], "\(list)")
        return Dictionary(uniqueKeysWithValues: entries.map { ($0["backup_id"] as? String ?? "", $0["authentication"] as? String ?? "") })
    }

    static func manifestPath(_ region: String, _ target: String, _ id: String) -> String { "\(region)/manifests/\(target)/\(id).json" }

    /// Copies `id`'s manifest as a backup a second later than `after`, keys moved, nothing else changed.
    static func plantLater(_ region: String, target: String, copying id: String, after seconds: TimeInterval) throws -> String {
        let time = Date().addingTimeInterval(seconds)
        let planted = BackupID(startedAt: time).rawValue
        let real = try PlantedJSON.read(manifestPath(region, target, id))
        try PlantedJSON.write(PlantedJSON.manifest(real, as: planted, at: time), to: manifestPath(region, target, planted))
        return planted
    }

    /// Planted manifests dated after every real backup (but not in the future) filled
    /// `keep_last` and prune removed the real backups. Now prune removes nothing and names them;
    /// list and restore ignore them.
    @Test func plantedManifestsDoNotMakePruneRemoveRealBackups() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [], rawTargets: """
              - name: t
                kind: command
                command: ["sh", "-c", "date +%s%N"]
                retention: {keep_last: 2}

            """)
        let ids = try (0..<3).map { _ in try Self.backup(sandbox) }
        let newest = try sandbox.drctl(["restore", "--target", "t", "--to", "-", "--backup", ids[2]]).stdout
        let planted = try [1.0, 2.0].map { try Self.plantLater(sandbox.repository, target: "t", copying: ids[2], after: $0) }

        let prune = try sandbox.drctl(["prune"])
        #expect(prune.status != 0, "\(prune)")
        for id in ids { #expect(FileManager.default.fileExists(atPath: Self.manifestPath(sandbox.repository, "t", id)), "\(id): \(prune)") }
        for id in planted { #expect(prune.stderr.contains(id) && prune.stderr.contains("tampered"), "\(prune)") }
        #expect(prune.stderr.contains("nothing removed"), "\(prune)")

        #expect(try Self.listed(sandbox).keys.sorted() == ids.sorted())
        let restore = try sandbox.drctl(["restore", "--target", "t", "--to", "-"])
        #expect(restore.status == 0 && restore.stdout == newest, "the newest real backup, not a planted one: \(restore)")

        for id in planted { try FileManager.default.removeItem(atPath: Self.manifestPath(sandbox.repository, "t", id)) }
        let again = try sandbox.drctl(["prune"])
        #expect(again.status == 0, "\(again)")
        #expect(!FileManager.default.fileExists(atPath: Self.manifestPath(sandbox.repository, "t", ids[0])), "\(again)")
    }

    /// `sync` copied planted manifests into the healthy regions. Now it copies none.
    @Test func syncDoesNotCopyPlantedManifests() throws {
        let sandbox = try Sandbox()
        let (first, second) = ("\(sandbox.root)/first", "\(sandbox.root)/second")
        try sandbox.writePolicy(targets: [("t", ["echo", "real"])], regions: [("first", first), ("second", second)])
        let id = try Self.backup(sandbox)
        let planted = try Self.plantLater(first, target: "t", copying: id, after: 1)
        try FileManager.default.copyItem(atPath: "\(first)/data/t/\(id)", toPath: "\(first)/data/t/\(planted)")
        let sync = try sandbox.drctl(["sync"])
        #expect(sync.stdout.contains(planted) || sync.stderr.contains(planted), "the planted manifest is named: \(sync)")
        #expect(!FileManager.default.fileExists(atPath: Self.manifestPath(second, "t", planted)), "\(sync)")
    }

    /// A backup of target `b` copied under target `a` restored as `a` (every target shares the
    /// key). Moved as it is, the key names the move; with its target rewritten, its signature
    /// fails; either way restore refuses it and `a`'s own backup is what restores.
    @Test func aBackupMovedToAnotherTargetIsRefusedByName() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("a", ["echo", "from a"]), ("b", ["echo", "from b"])])
        _ = try Self.backup(sandbox, target: "a")
        let idB = try Self.backup(sandbox, target: "b")
        let repository = sandbox.repository
        try FileManager.default.copyItem(atPath: "\(repository)/data/b/\(idB)", toPath: "\(repository)/data/a/\(idB)")
        let moved = Self.manifestPath(repository, "a", idB)

        try FileManager.default.copyItem(atPath: Self.manifestPath(repository, "b", idB), toPath: moved)
        let asIs = try sandbox.drctl(["restore", "--target", "a", "--backup", idB, "--to", "-"])
        #expect(asIs.status != 0 && asIs.stdout.isEmpty, "\(asIs)")
        #expect(asIs.stderr.contains("manifests/a/\(idB).json") && asIs.stderr.contains("belongs elsewhere"), "\(asIs)")

        var rewritten = try PlantedJSON.read(Self.manifestPath(repository, "b", idB))
        rewritten["target"] = "a"
        rewritten = PlantedJSON.manifest(rewritten, as: idB, at: try #require(BackupID(idB)).startedAt)
        try PlantedJSON.write(rewritten, to: moved)
        let edited = try sandbox.drctl(["restore", "--target", "a", "--backup", idB, "--to", "-"])
        #expect(edited.status != 0 && edited.stdout.isEmpty, "\(edited)")
        #expect(edited.stderr.contains("manifests/a/\(idB).json") && edited.stderr.contains("tampered"), "\(edited)")

        let restore = try sandbox.drctl(["restore", "--target", "a", "--to", "-"])
        #expect(restore.status == 0 && restore.stdout == "from a\n", "\(restore)")
        let verify = try sandbox.drctl(["verify"])
        #expect(verify.status != 0 && verify.stdout.contains(idB) && verify.stdout.contains("tampered"), "\(verify)")
    }

    /// A backup copied, manifest and data, from another repository that uses the same key
    /// restored there. Each repository has its own id, bound into the signature and the wrapped
    /// key: refused.
    @Test func aBackupMovedFromAnotherRepositoryIsRefused() throws {
        let sandbox = try Sandbox()
        let other = "\(sandbox.root)/other"
        try sandbox.writePolicy(targets: [("t", ["echo", "other repository"])], regions: [("local", other)])
        let foreign = try Self.backup(sandbox)
        try sandbox.writePolicy(targets: [("t", ["echo", "this repository"])])
        _ = try Self.backup(sandbox)
        #expect(try ManifestRewriter.repositoryID(of: other) != ManifestRewriter.repositoryID(of: sandbox.repository))

        try FileManager.default.copyItem(atPath: "\(other)/data/t/\(foreign)", toPath: "\(sandbox.repository)/data/t/\(foreign)")
        try FileManager.default.copyItem(atPath: Self.manifestPath(other, "t", foreign),
                                         toPath: Self.manifestPath(sandbox.repository, "t", foreign))
        let restore = try sandbox.drctl(["restore", "--target", "t", "--backup", foreign, "--to", "-"])
        #expect(restore.status != 0 && restore.stdout.isEmpty, "\(restore)")
        #expect(restore.stderr.contains(foreign) && restore.stderr.contains("tampered"), "\(restore)")
        let newest = try sandbox.drctl(["restore", "--target", "t", "--to", "-"])
        #expect(newest.status == 0 && newest.stdout == "this repository\n", "\(newest)")
    }

    /// Edits that restored the wrong thing (another database name, an earlier consistent point
    /// for --point-in-time, fewer objects' sizes and digests): each changes the manifest's
    /// bytes, and list, restore and verify refuse the edited copy, naming it.
    @Test(arguments: ["consistent_point", "database", "sha256", "objects"])
    func anEditedManifestIsRefused(field: String) throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("t", ["echo", "real"])])
        let id = try Self.backup(sandbox)
        let path = Self.manifestPath(sandbox.repository, "t", id)
        var manifest = try PlantedJSON.read(path)
        var objects = manifest["objects"] as? [[String: Any]] ?? []
        switch field {
        case "consistent_point":
            manifest["consistent_point"] = ["precision": "at-or-after", "time": Timestamp.format(Date().addingTimeInterval(-86_400))]
        case "database": objects[0]["database"] = "postgres"
        case "sha256": objects[0]["sha256"] = String(repeating: "0", count: 64)
        default: objects.append(objects[0].merging(["name": "extra", "key": "data/t/\(id)/extra"]) { $1 })
        }
        manifest["objects"] = objects
        try PlantedJSON.write(manifest, to: path)

        #expect(try Self.listed(sandbox).isEmpty)
        let restore = try sandbox.drctl(["restore", "--target", "t", "--to", "-", "--backup", id])
        #expect(restore.status == 3 && restore.stdout.isEmpty, "\(restore)")
        #expect(restore.stderr.contains("manifests/t/\(id).json") && restore.stderr.contains("tampered"), "\(restore)")
        let verify = try sandbox.drctl(["verify"])
        #expect(verify.status == 3 && verify.stdout.contains("tampered"), "\(verify)")
    }

    /// A manifest signed by the writer but whose MAC was not made with its backup's data key
    /// (a writer's bug, or its signing key used by someone without the data): readers without
    /// the secret key believe the signature; restore and verify, which check the MAC, refuse it.
    @Test func aManifestWhoseMACFailsIsRefusedByRestoreAndVerify() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("t", ["echo", "real"])])
        let id = try Self.backup(sandbox)
        let path = Self.manifestPath(sandbox.repository, "t", id)
        var manifest = try BackupManifest.decode(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        let repositoryID = try #require(try ManifestRewriter.repositoryID(of: sandbox.repository))
        let signing = SigningKey(derivedFrom: try SecretKey.load(path: sandbox.keyPath))
        manifest.authentication = .placeholder(signer: signing.signerID, withMAC: true)
        let stored = try DocumentSeal.sealed(manifest.encoded(), at: manifest.address(repositoryID: repositoryID), signingKey: signing,
                                             macKey: AuthenticatedBytes.manifestMACKey(DataKey.random()))
        try Data(stored).write(to: URL(fileURLWithPath: path))

        #expect(try Self.listed(sandbox) == [id: "signed"], "the signature holds")
        let restore = try sandbox.drctl(["restore", "--target", "t", "--to", "-", "--backup", id])
        #expect(restore.status == 3 && restore.stdout.isEmpty && restore.stderr.contains("mac does not verify"), "\(restore)")
        let verify = try sandbox.drctl(["verify"])
        #expect(verify.status == 3 && verify.stdout.contains("mac does not verify"), "\(verify)")
    }

    /// Public-key mode: anyone with the public key could wrap a data key and write a complete
    /// backup, dated to become the newest. Now its signature must come from a writer the
    /// readers' policy lists: a backup signed by any other key is refused as an unknown writer.
    @Test func aForgedPublicKeyModeBackupIsRefused() throws {
        let sandbox = try Sandbox()
        let (host, hostWriter) = ("\(sandbox.root)/host.sig", "\(sandbox.root)/host.writer")
        let (forger, forgerWriter) = ("\(sandbox.root)/forger.sig", "\(sandbox.root)/forger.writer")
        for (key, writer) in [(host, hostWriter), (forger, forgerWriter)] {
            #expect(try Drctl.run(["keygen", "--signing", "--out", key, "--public-out", writer]).status == 0)
        }
        func policy(_ signing: String, writers: [String], text: String) throws {
            try sandbox.writePolicy(targets: [("t", ["echo", text])], encryption: [
                "public_key_file: \(sandbox.publicKeyPath)", "signing_key_file: \(signing)", "writers: \(Sandbox.flowList(writers))",
            ])
        }
        try policy(host, writers: [hostWriter], text: "real")
        let real = try Self.backup(sandbox)
        try policy(forger, writers: [forgerWriter], text: "forged")
        let forged = try Self.backup(sandbox)

        try policy(host, writers: [hostWriter], text: "real")
        #expect(try Self.listed(sandbox) == [real: "signed"])
        let newest = try sandbox.drctl(["restore", "--target", "t", "--to", "-", "--key", sandbox.keyPath])
        #expect(newest.status == 0 && newest.stdout == "real\n", "\(newest)")
        let named = try sandbox.drctl(["restore", "--target", "t", "--to", "-", "--key", sandbox.keyPath, "--backup", forged])
        #expect(named.status == 3 && named.stdout.isEmpty && named.stderr.contains("unknown writer"), "\(named)")
    }

    /// A repository created by an earlier drctl (version 1 repository.json) keeps being written
    /// and read as version 1, its backups shown as unauthenticated, and they restore. In a
    /// version 2 repository, a version 1 manifest (what a planter without keys can still make
    /// in public-key mode) is refused.
    @Test func versionOneRepositoriesStillRestoreAndVersionOneManifestsAreRefusedInVersionTwo() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("t", ["echo", "version one"])])
        try FileManager.default.createDirectory(atPath: sandbox.repository, withIntermediateDirectories: true)
        try #"{"created_at" : "2026-01-01T00:00:00.000Z", "created_by" : "drctl 0.1.0", "format" : "drctl-repository", "version" : 1}"#
            .write(toFile: "\(sandbox.repository)/repository.json", atomically: true, encoding: .utf8)
        let id = try Self.backup(sandbox)
        let stored = try PlantedJSON.read(Self.manifestPath(sandbox.repository, "t", id))
        #expect(stored["version"] as? Int == 1 && stored["authentication"] == nil, "\(stored)")
        #expect(try Self.listed(sandbox) == [id: "unauthenticated"])
        let restore = try sandbox.drctl(["restore", "--target", "t", "--to", "-"])
        #expect(restore.status == 0 && restore.stdout == "version one\n", "\(restore)")

        let fresh = try Sandbox()
        try fresh.writePolicy(targets: [("t", ["echo", "version two"])])
        let real = try Self.backup(fresh)
        let time = Date().addingTimeInterval(1)
        let planted = BackupID(startedAt: time).rawValue
        var downgraded = PlantedJSON.manifest(try PlantedJSON.read(Self.manifestPath(fresh.repository, "t", real)), as: planted, at: time)
        downgraded["version"] = 1
        downgraded["authentication"] = nil
        try PlantedJSON.write(downgraded, to: Self.manifestPath(fresh.repository, "t", planted))
        #expect(try Self.listed(fresh) == [real: "signed"])
        let list = try fresh.drctl(["list"])
        #expect(list.stderr.contains(planted) && list.stderr.contains("version 1 manifest"), "\(list)")
    }

    /// Regions of one repository hold one id; a region whose repository.json names another
    /// (replaced, or a region of another repository) fails a backup by name, and so does a
    /// policy that pins another id.
    @Test func regionsThatDisagreeAboutTheRepositoryIdAreNamed() throws {
        let sandbox = try Sandbox()
        let (first, second) = ("\(sandbox.root)/first", "\(sandbox.root)/second")
        try sandbox.writePolicy(targets: [("t", ["echo", "x"])], regions: [("first", first), ("second", second)], minRegions: 1)
        _ = try Self.backup(sandbox)
        let id = try #require(try ManifestRewriter.repositoryID(of: first))
        #expect(try ManifestRewriter.repositoryID(of: second) == id)

        let policy = try String(contentsOfFile: sandbox.policyPath, encoding: .utf8)
        let pinned = String(repeating: "ab", count: 16)
        try policy.replacingOccurrences(of: "  min_regions:", with: "  id: \"\(pinned)\"\n  min_regions:")
            .write(toFile: sandbox.policyPath, atomically: true, encoding: .utf8)
        let wrongPin = try sandbox.drctl(["backup"])
        #expect(wrongPin.status != 0 && wrongPin.stderr.contains(pinned) && wrongPin.stderr.contains(id), "\(wrongPin)")
        try policy.replacingOccurrences(of: "  min_regions:", with: "  id: \"\(id)\"\n  min_regions:")
            .write(toFile: sandbox.policyPath, atomically: true, encoding: .utf8)
        _ = try Self.backup(sandbox)

        try policy.write(toFile: sandbox.policyPath, atomically: true, encoding: .utf8)
        let marker = "\(second)/repository.json"
        let replaced = try String(contentsOfFile: marker, encoding: .utf8).replacingOccurrences(of: id, with: pinned)
        try replaced.write(toFile: marker, atomically: true, encoding: .utf8)
        let disagree = try sandbox.drctl(["backup"])
        #expect(disagree.status != 0 && disagree.stderr.contains("region 'first' holds \(id)")
                && disagree.stderr.contains("region 'second' holds \(pinned)"), "\(disagree)")
    }

    /// `drctl repository upgrade`: a version 1 repository (check warns about it) becomes
    /// version 2 in every region with one id; its earlier backups stay readable as
    /// unauthenticated, later ones are signed, and a version 1 manifest dated after the upgrade
    /// is refused. Run again, it changes nothing.
    @Test func aVersionOneRepositoryIsUpgraded() throws {
        let sandbox = try Sandbox()
        let (first, second) = ("\(sandbox.root)/first", "\(sandbox.root)/second")
        try sandbox.writePolicy(targets: [("t", ["sh", "-c", "date +%s%N"])], regions: [("first", first), ("second", second)])
        for region in [first, second] {
            try FileManager.default.createDirectory(atPath: region, withIntermediateDirectories: true)
            try #"{"created_at" : "2026-01-01T00:00:00.000Z", "created_by" : "drctl 0.1.0", "format" : "drctl-repository", "version" : 1}"#
                .write(toFile: "\(region)/repository.json", atomically: true, encoding: .utf8)
        }
        let old = try Self.backup(sandbox)
        let before = try sandbox.drctl(["check"])
        #expect(before.status == 1 && before.stdout.contains("version 1") && before.stdout.contains("drctl repository upgrade"), "\(before)")

        let upgrade = try sandbox.drctl(["repository", "upgrade"])
        #expect(upgrade.status == 0, "\(upgrade)")
        let id = try #require(try ManifestRewriter.repositoryID(of: first))
        #expect(try ManifestRewriter.repositoryID(of: second) == id)
        #expect(upgrade.stdout.contains("region first: upgraded") && upgrade.stdout.contains("region second: upgraded")
                && upgrade.stdout.contains("repository.id: \"\(id)\""), "\(upgrade)")
        let marker = try PlantedJSON.read("\(first)/repository.json")
        #expect(marker["version"] as? Int == 2 && marker["upgraded_at"] != nil && marker["created_at"] as? String == "2026-01-01T00:00:00.000Z",
                "\(marker)")

        let new = try Self.backup(sandbox)
        #expect(try Self.listed(sandbox) == [old: "unauthenticated", new: "signed"])
        for backup in [old, new] {
            #expect(try sandbox.drctl(["restore", "--target", "t", "--backup", backup, "--to", "-"]).status == 0)
        }
        let after = try sandbox.drctl(["check"])
        #expect(after.status == 0 && !after.stdout.contains("version 1"), "\(after)")
        #expect(after.stdout.contains("repository \(id) (format version 2; pin it as repository.id)"), "\(after)")
        #expect(before.stdout.contains("repository: no id"), "\(before)")

        let time = Date().addingTimeInterval(1)
        let planted = BackupID(startedAt: time).rawValue
        var downgraded = PlantedJSON.manifest(try PlantedJSON.read(Self.manifestPath(first, "t", old)), as: planted, at: time)
        downgraded["version"] = 1
        try PlantedJSON.write(downgraded, to: Self.manifestPath(first, "t", planted))
        #expect(try Self.listed(sandbox) == [old: "unauthenticated", new: "signed"])

        let again = try sandbox.drctl(["repository", "upgrade"])
        #expect(again.status == 0 && again.stdout.contains("region first: already version 2")
                && again.stdout.contains("region second: already version 2"), "\(again)")
        #expect(try PlantedJSON.read("\(first)/repository.json")["upgraded_at"] as? String == marker["upgraded_at"] as? String)
    }

    /// A key rotation in symmetric mode: the old backups were signed with the old key's writer
    /// key. Restoring one with `--key OLD` believes that key's writer; list, check and prune
    /// believe it once its writer key (`keygen --writer-of OLD`) is listed in encryption.writers,
    /// and until then name the old backups as signed by an unknown writer.
    @Test func backupsMadeBeforeAKeyRotationStayReadable() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("t", ["sh", "-c", "date +%s%N"])])
        let old = try Self.backup(sandbox)
        let newKey = "\(sandbox.root)/new.key", oldWriter = "\(sandbox.root)/old.writer"
        #expect(try Drctl.run(["keygen", "--out", newKey]).status == 0)
        try sandbox.writePolicy(targets: [("t", ["sh", "-c", "date +%s%N"])], encryption: ["key_file: \(newKey)"])
        let new = try Self.backup(sandbox)

        #expect(try Self.listed(sandbox) == [new: "signed"])
        let list = try sandbox.drctl(["list"])
        #expect(list.stderr.contains(old) && list.stderr.contains("unknown writer"), "\(list)")
        let restore = try sandbox.drctl(["restore", "--target", "t", "--backup", old, "--to", "-", "--key", sandbox.keyPath])
        #expect(restore.status == 0, "\(restore)")

        let keygen = try Drctl.run(["keygen", "--writer-of", sandbox.keyPath, "--out", oldWriter])
        #expect(keygen.status == 0, "\(keygen)")
        try sandbox.writePolicy(targets: [("t", ["sh", "-c", "date +%s%N"])], encryption: ["key_file: \(newKey)", "writers: [\(oldWriter)]"])
        #expect(try Self.listed(sandbox) == [old: "signed", new: "signed"])
    }

    /// Deleting a backup's manifest (in every region) left no trace. Now the next backup's
    /// signed link to it shows the gap, and check warns naming both.
    @Test func aDeletedBackupLeavesAGapThatCheckNames() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("t", ["echo", "x"])])
        let ids = try (0..<3).map { _ in try Self.backup(sandbox) }
        let clean = try sandbox.drctl(["check"])
        #expect(clean.status == 0, "\(clean)")
        let next = try PlantedJSON.read(Self.manifestPath(sandbox.repository, "t", ids[2]))
        #expect((next["previous"] as? [String: Any])?["backup_id"] as? String == ids[1], "\(next)")

        try FileManager.default.removeItem(atPath: Self.manifestPath(sandbox.repository, "t", ids[1]))
        let check = try sandbox.drctl(["check"])
        #expect(check.status == 1 && check.stdout.contains("backup \(ids[1]), which backup \(ids[2]) names as its previous, is in no region"),
                "\(check)")
    }

    /// The planted-manifest attack on an S3 region (moto): a manifest copied under a later id
    /// with a standard S3 client is refused; prune removes nothing, list shows the real backups.
    @Test func plantedManifestsInAnS3RegionAreRefused() throws {
        let sandbox = try Sandbox()
        let moto = try MotoProcess()
        try moto.createBucket("backups")
        try sandbox.writeS3Policy(endpoint: "http://127.0.0.1:\(moto.port)", command: ["sh", "-c", "date +%s%N"])
        let policy = try String(contentsOfFile: sandbox.policyPath, encoding: .utf8)
        try (policy + "    retention: {keep_last: 1}\n").write(toFile: sandbox.policyPath, atomically: true, encoding: .utf8)
        let environment = ["AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "moto-does-not-check"]
        func drctl(_ arguments: [String]) throws -> Drctl.Result {
            try Drctl.run(arguments + ["--policy", sandbox.policyPath], environment: environment)
        }
        #expect(try drctl(["backup"]).status == 0)
        #expect(try drctl(["backup"]).status == 0)
        let store = try moto.store(bucket: "backups", prefix: "prod")
        let real = try store.list(prefix: "manifests/files/").map(\.key)
        try #require(real.count == 2)
        let newest = String(try #require(real.last?.split(separator: "/").last).dropLast(5))
        let time = Date().addingTimeInterval(1)
        let planted = BackupID(startedAt: time).rawValue
        let newestKey = try #require(real.last)
        let original = try JSONSerialization.jsonObject(with: Data(try store.get(newestKey))) as? [String: Any]
        let copy = PlantedJSON.manifest(try #require(original), as: planted, at: time)
        try store.put("manifests/files/\(planted).json", bytes: Array(try PlantedJSON.bytes(copy)))

        let prune = try drctl(["prune"])
        #expect(prune.status != 0 && prune.stderr.contains(planted) && prune.stderr.contains("nothing removed"), "\(prune)")
        #expect(try store.list(prefix: "manifests/files/").count == 3, "nothing removed: \(prune)")
        let list = try drctl(["list", "--json"])
        #expect(list.stdout.contains(newest) && !list.stdout.contains(planted), "\(list)")
    }

    /// What prune removes leaves no gap: its signed prune record explains it. A prune record
    /// planted to explain a deletion (its bytes edited) explains nothing and is named.
    @Test func aPrunedBackupLeavesNoGapAndAPlantedPruneRecordExplainsNothing() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [], rawTargets: """
              - name: t
                kind: command
                command: ["echo", "x"]
                retention: {keep_last: 2}

            """)
        let ids = try (0..<4).map { _ in try Self.backup(sandbox) }
        #expect(try sandbox.drctl(["prune"]).status == 0)
        let pruned = try sandbox.drctl(["check"])
        #expect(pruned.status == 0 && !pruned.stdout.contains("no signed prune"), "\(pruned)")

        let records = "\(sandbox.repository)/records/t/prunes"
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: records).first)
        var record = try PlantedJSON.read("\(records)/\(name)")
        var removed = record["removed"] as? [[String: Any]] ?? []
        removed.append(["backup_id": ids[2], "sha256": String(repeating: "0", count: 64)])
        record["removed"] = removed
        try PlantedJSON.write(record, to: "\(records)/\(name)")
        try FileManager.default.removeItem(atPath: Self.manifestPath(sandbox.repository, "t", ids[2]))
        let check = try sandbox.drctl(["check"])
        #expect(check.status == 1 && check.stdout.contains("backup \(ids[2]), which backup \(ids[3]) names as its previous, is in no region")
                && check.stdout.contains(name.dropLast(5)), "\(check)")
    }
}
