import Foundation
import Testing

/// Stored bytes altered after the backup: every kind of damage is caught, named, exits 3,
/// and restore writes nothing.
@Suite struct TamperTests {
    /// A sandbox with one backup of 3.5 MiB of random bytes (4 sealed chunks) and the layout
    /// of its stored object.
    struct Fixture {
        let sandbox: Sandbox
        let backupID: String
        let object: String
        let original: Data

        /// Sealed stream layout (docs/FORMAT.md): header, then 1 MiB + 16-byte-tag records.
        var headerSize: Int { 8 + 1 + 1 + 32 + 2 + backupID.utf8.count + 2 + "stdout".utf8.count + 32 }
        let record = (1 << 20) + 16

        init(source: [String]? = nil) throws {
            sandbox = try Sandbox()
            let input = "\(sandbox.root)/input"
            try Command.shell("head -c 3670016 /dev/urandom > '\(input)'")
            try sandbox.writePolicy(targets: [("t", source ?? ["cat", input])])
            let backup = try sandbox.drctl(["backup", "--json"])
            guard backup.status == 0 else { throw Command.ShellFailed(script: "backup", result: backup) }
            let listed = try JSONSerialization.jsonObject(with: Data(backup.stdout.utf8)) as! [[String: Any]]
            backupID = listed[0]["backup_id"] as! String
            object = "\(sandbox.repository)/data/t/\(backupID)/stdout"
            original = try Data(contentsOf: URL(fileURLWithPath: object))
        }

        /// Replaces the stored object, runs verify and restore, puts the original back.
        func expectDamage(_ bytes: Data, mentions fragments: [String], _ comment: Comment,
                          sourceLocation: SourceLocation = #_sourceLocation) throws {
            try bytes.write(to: URL(fileURLWithPath: object))
            defer { try? original.write(to: URL(fileURLWithPath: object)) }
            let verify = try sandbox.drctl(["verify", "--target", "t"])
            #expect(verify.status == 3, "\(comment): \(verify)", sourceLocation: sourceLocation)
            let all = verify.stdout + verify.stderr
            for fragment in fragments {
                #expect(all.localizedCaseInsensitiveContains(fragment), "\(comment): wanted '\(fragment)' in \(verify)",
                        sourceLocation: sourceLocation)
            }
            let out = "\(sandbox.root)/restored"
            let restore = try sandbox.drctl(["restore", "--target", "t", "--backup", backupID, "--to", out])
            #expect(restore.status == 3, "\(comment): \(restore)", sourceLocation: sourceLocation)
            #expect(!FileManager.default.fileExists(atPath: out), "\(comment): restore left a file", sourceLocation: sourceLocation)
            #expect(sandbox.files(under: sandbox.root).allSatisfy { !$0.contains("drctl-partial") }, sourceLocation: sourceLocation)
        }

        func flipping(bit: Int, at offset: Int) -> Data {
            var bytes = original
            bytes[offset] ^= UInt8(1 << bit)
            return bytes
        }
    }

    @Test func intactBackupVerifies() throws {
        let fixture = try Fixture()
        #expect(fixture.original.count == fixture.headerSize + 3 * fixture.record + (3670016 - 3 * (1 << 20) + 16)
                || fixture.original.count > fixture.headerSize + 3 * fixture.record,
                "random data should not shrink: \(fixture.original.count)")
        let verify = try fixture.sandbox.drctl(["verify"])
        #expect(verify.status == 0, "\(verify)")
    }

    @Test func flippedBitsInHeaderAndData() throws {
        let fixture = try Fixture()
        let h = fixture.headerSize
        let r = fixture.record
        try fixture.expectDamage(fixture.flipping(bit: 0, at: 0), mentions: ["not a drctl"], "magic")
        try fixture.expectDamage(fixture.flipping(bit: 3, at: 20), mentions: ["header"], "salt")
        try fixture.expectDamage(fixture.flipping(bit: 1, at: 50), mentions: ["backup"], "backup id in header")
        try fixture.expectDamage(fixture.flipping(bit: 7, at: h - 1), mentions: ["header"], "header tag")
        try fixture.expectDamage(fixture.flipping(bit: 5, at: h + 10), mentions: ["chunk 0"], "first chunk data")
        try fixture.expectDamage(fixture.flipping(bit: 2, at: h + 2 * r + 4096), mentions: ["chunk 2"], "third chunk data")
        try fixture.expectDamage(fixture.flipping(bit: 0, at: h + r - 1), mentions: ["chunk 0"], "first chunk tag")
        try fixture.expectDamage(fixture.flipping(bit: 6, at: fixture.original.count - 1), mentions: ["chunk 3"], "final tag")
    }

    @Test func truncation() throws {
        let fixture = try Fixture()
        let h = fixture.headerSize
        let r = fixture.record
        try fixture.expectDamage(fixture.original.prefix(h + 3 * r), mentions: ["truncated"], "at a chunk boundary")
        try fixture.expectDamage(fixture.original.prefix(h + r), mentions: ["truncated"], "after the first chunk")
        try fixture.expectDamage(fixture.original.prefix(h + r + 1000), mentions: ["chunk 1", "cut short"], "inside a chunk")
        try fixture.expectDamage(fixture.original.prefix(h - 5), mentions: ["truncated"], "inside the header")
        try fixture.expectDamage(fixture.original.prefix(fixture.original.count - 1), mentions: ["chunk 3"], "last byte")
        try fixture.expectDamage(Data(), mentions: ["truncated"], "empty object")
    }

    @Test func reorderedAndAppendedChunks() throws {
        let fixture = try Fixture()
        let h = fixture.headerSize
        let r = fixture.record
        let bytes = fixture.original
        let header = bytes.prefix(h)
        let chunk = { (i: Int) in bytes.subdata(in: (h + i * r)..<(h + (i + 1) * r)) }
        let rest = bytes.suffix(from: h + 2 * r)
        try fixture.expectDamage(header + chunk(1) + chunk(0) + rest, mentions: ["reordered"], "chunks 0 and 1 swapped")
        let final = bytes.suffix(from: h + 3 * r)
        try fixture.expectDamage(bytes + final, mentions: ["appended"], "final chunk appended again")
        try fixture.expectDamage(bytes + Data([1, 2, 3]), mentions: ["appended"], "bytes appended")
        try fixture.expectDamage(header + chunk(0) + chunk(1) + chunk(1) + chunk(2) + final, mentions: ["chunk"],
                                 "chunk duplicated")
    }

    /// One backup's object put in place of another's: the header names the other backup.
    @Test func objectFromAnotherBackup() throws {
        let fixture = try Fixture()
        #expect(try fixture.sandbox.drctl(["backup"]).status == 0)
        let ids = try FileManager.default.contentsOfDirectory(atPath: "\(fixture.sandbox.repository)/data/t").sorted()
        #expect(ids.count == 2)
        let other = ids.first { $0 != fixture.backupID }!
        let foreign = try Data(contentsOf: URL(fileURLWithPath: "\(fixture.sandbox.repository)/data/t/\(other)/stdout"))
        try fixture.expectDamage(foreign, mentions: [other, fixture.backupID], "another backup's object")
    }

    @Test func alteredManifestKey() throws {
        let fixture = try Fixture()
        let manifest = "\(fixture.sandbox.repository)/manifests/t/\(fixture.backupID).json"
        let text = try String(contentsOfFile: manifest, encoding: .utf8)
        // Corrupt the wrapped data key's ciphertext (first base64 char after the key).
        let marker = "\"ciphertext\" : \""
        let range = text.range(of: marker)!
        var altered = text
        let index = range.upperBound
        altered.replaceSubrange(index...index, with: text[index] == "A" ? "B" : "A")
        try altered.write(toFile: manifest, atomically: false, encoding: .utf8)
        let verify = try fixture.sandbox.drctl(["verify"])
        #expect(verify.status == 3, "\(verify)")
        #expect((verify.stdout + verify.stderr).contains("manifest"), "\(verify)")
    }
}
