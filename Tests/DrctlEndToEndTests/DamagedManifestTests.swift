import Foundation
import Testing

/// One region's copy of a manifest altered after the backup, the other region's intact: the
/// damage costs that copy only. Restore and verify use the other region's copy and name the bad
/// one; the region's other backups are still listed, verified and restored from it.
@Suite struct DamagedManifestTests {
    /// Two backups (`older`, `newer`) of 1.5 MiB of random bytes in two local regions, `first`
    /// and `second`.
    struct Fixture {
        let sandbox: Sandbox
        let input: String
        let older: String
        let newer: String
        var first: String { "\(sandbox.root)/first" }
        var second: String { "\(sandbox.root)/second" }

        init() throws {
            sandbox = try Sandbox()
            input = "\(sandbox.root)/input"
            try Command.shell("head -c 1572864 /dev/urandom > '\(input)'")
            try sandbox.writePolicy(targets: [("t", ["cat", input])],
                                    regions: [("first", "\(sandbox.root)/first"), ("second", "\(sandbox.root)/second")])
            var ids: [String] = []
            for _ in 0..<2 {
                let backup = try sandbox.drctl(["backup", "--json"])
                guard backup.status == 0 else { throw Command.ShellFailed(script: "backup", result: backup) }
                let listed = try JSONSerialization.jsonObject(with: Data(backup.stdout.utf8)) as! [[String: Any]]
                ids.append(listed[0]["backup_id"] as! String)
            }
            (older, newer) = (ids[0], ids[1])
        }

        func manifest(_ id: String, in region: String) -> String { "\(region)/manifests/t/\(id).json" }

        /// Changes the character after the first `marker` in `region`'s copy of `id`'s manifest.
        func alter(_ id: String, in region: String, after marker: String) throws {
            let path = manifest(id, in: region)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let index = try #require(text.range(of: marker)).upperBound
            var altered = text
            altered.replaceSubrange(index...index, with: text[index] == "A" || text[index] == "a" ? "b" : "a")
            try altered.write(toFile: path, atomically: false, encoding: .utf8)
        }

        /// `verify`'s lines, `backup region` → the line's verdict (`ok` or `FAILED: …`).
        func verdicts(_ verify: Drctl.Result) -> [String: String] {
            var found: [String: String] = [:]
            for line in verify.stdout.split(separator: "\n") {
                let parts = line.split(separator: " ", maxSplits: 3).map(String.init)
                guard parts.count == 4, parts[0] == "t" else { continue }
                found["\(parts[1]) \(parts[2].dropLast())"] = parts[3]
            }
            return found
        }

        func expectRestored(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> Drctl.Result {
            let out = "\(sandbox.root)/restored-\(UUID().uuidString)"
            let restore = try sandbox.drctl(["restore", "--target", "t", "--to", out] + arguments)
            #expect(restore.status == 0, "\(restore)", sourceLocation: sourceLocation)
            if restore.status == 0 {
                #expect(try sandbox.sha256(out) == sandbox.sha256(input), sourceLocation: sourceLocation)
            }
            return restore
        }
    }

    /// The wrapped data key altered in the first region's copy: its signature no longer
    /// verifies, so restore reads the second region's copy and says which copy was bad; verify
    /// fails that copy only.
    @Test func anAlteredDataKeyFallsBackToAnotherRegionsCopy() throws {
        let fixture = try Fixture()
        try fixture.alter(fixture.newer, in: fixture.first, after: "\"ciphertext\" : \"")
        let restore = try fixture.expectRestored([])
        #expect(restore.stderr.contains("first") && restore.stderr.contains("tampered"), "\(restore)")
        #expect(restore.stdout.contains("from region second"), "\(restore)")

        let verify = try fixture.sandbox.drctl(["verify"])
        #expect(verify.status == 3, "\(verify)")
        let verdicts = fixture.verdicts(verify)
        #expect(verdicts["\(fixture.newer) first"]?.contains("tampered") == true, "\(verify)")
        #expect(verdicts["\(fixture.newer) second"] == "ok", "\(verify)")
        #expect(verdicts["\(fixture.older) first"] == "ok" && verdicts["\(fixture.older) second"] == "ok", "\(verify)")
    }

    /// A recorded digest altered in the first region's copy: that copy fails against the stored
    /// bytes; the second region, checked against its own copy, passes.
    @Test func anAlteredDigestFailsOnlyItsOwnCopy() throws {
        let fixture = try Fixture()
        try fixture.alter(fixture.newer, in: fixture.first, after: "\"sha256\" : \"")
        let verify = try fixture.sandbox.drctl(["verify", "--backup", fixture.newer])
        #expect(verify.status == 3, "\(verify)")
        let verdicts = fixture.verdicts(verify)
        #expect(verdicts["\(fixture.newer) first"]?.contains("FAILED") == true, "\(verify)")
        #expect(verdicts["\(fixture.newer) second"] == "ok", "\(verify)")
        _ = try fixture.expectRestored(["--backup", fixture.newer])
    }

    /// The first region's copy of the newer manifest is not JSON, and the older backup's object
    /// there is truncated: the older backup is still verified in that region (its damage named),
    /// listed as complete and, once intact again, restored from it; the newer one is reported by
    /// name and restored from the second.
    @Test func aManifestThatIsNotJSONAffectsOnlyItsOwnBackup() throws {
        let fixture = try Fixture()
        try "{ not json".write(toFile: fixture.manifest(fixture.newer, in: fixture.first), atomically: false, encoding: .utf8)
        let object = "\(fixture.first)/data/t/\(fixture.older)/stdout"
        let intact = try Data(contentsOf: URL(fileURLWithPath: object))
        try Command.shell("truncate -s -100 '\(object)'")

        let verify = try fixture.sandbox.drctl(["verify"])
        #expect(verify.status == 3, "\(verify)")
        let verdicts = fixture.verdicts(verify)
        #expect(verdicts["\(fixture.older) first"]?.contains("FAILED") == true, "the truncated object is reported: \(verify)")
        #expect(verdicts["\(fixture.older) second"] == "ok", "\(verify)")
        #expect(verdicts["\(fixture.newer) first"]?.contains("manifests/t/\(fixture.newer).json") == true,
                "the unreadable manifest is named: \(verify)")
        #expect(verdicts["\(fixture.newer) second"] == "ok", "\(verify)")

        let list = try fixture.sandbox.drctl(["list", "--json"])
        #expect(list.status == 0, "\(list)")
        let listed = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as! [[String: Any]]
        let status = Dictionary(uniqueKeysWithValues: listed.map { ($0["backup_id"] as! String, $0["status"] as! String) })
        #expect(status == [fixture.older: "complete", fixture.newer: "degraded"], "\(list)")
        #expect(list.stderr.contains("manifests/t/\(fixture.newer).json"), "\(list)")

        // The region's other backup is still restored from it: the newest backup it can read,
        // the unreadable newer one named.
        try intact.write(to: URL(fileURLWithPath: object))
        let fromFirst = try fixture.expectRestored(["--region", "first"])
        #expect(fromFirst.stdout.contains("restored t \(fixture.older)") && fromFirst.stdout.contains("from region first"),
                "\(fromFirst)")
        #expect(fromFirst.stderr.contains("manifests/t/\(fixture.newer).json"), "\(fromFirst)")
        let newer = try fixture.expectRestored([])
        #expect(newer.stdout.contains("restored t \(fixture.newer)") && newer.stdout.contains("from region second"), "\(newer)")
    }
}
