import Foundation
import Testing

@Suite struct KeyTests {
    @Test func keygenCreatesPrivateFilesAndNeverOverwrites() throws {
        let sandbox = try Sandbox()
        for path in [sandbox.keyPath, sandbox.publicKeyPath] {
            let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(path) mode \(String(mode ?? 0, radix: 8))")
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: sandbox.keyPath))
        let again = try Drctl.run(["keygen", "--out", sandbox.keyPath])
        #expect(again.status != 0, "\(again)")
        #expect(again.stderr.contains(sandbox.keyPath) && again.stderr.contains("exists"), "\(again)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: sandbox.keyPath)) == before)
        let publicAgain = try Drctl.run(["keygen", "--out", "\(sandbox.root)/new.key", "--public-out", sandbox.publicKeyPath])
        #expect(publicAgain.status != 0, "\(publicAgain)")
    }

    @Test func wrongKeyIsNamed() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("t", ["echo", "secret data"])])
        #expect(try sandbox.drctl(["backup"]).status == 0)
        let other = "\(sandbox.root)/other.key"
        #expect(try Drctl.run(["keygen", "--out", other]).status == 0)
        let restore = try sandbox.drctl(["restore", "--target", "t", "--to", "\(sandbox.root)/out", "--key", other])
        #expect(restore.status == 4, "\(restore)")
        #expect(restore.stderr.contains("key"), "\(restore)")
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.root)/out"))
        let verify = try sandbox.drctl(["verify", "--key", other])
        #expect(verify.status == 4, "\(verify)")
        let missing = try sandbox.drctl(["restore", "--target", "t", "--to", "-", "--key", "\(sandbox.root)/nope.key"])
        #expect(missing.status == 4 && missing.stderr.contains("nope.key"), "\(missing)")
    }

    /// A host holding only the public key can take backups but read none.
    @Test func publicKeyOnlyHost() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("t", ["echo", "from a write-only host"])],
                                encryption: ["public_key_file: \(sandbox.publicKeyPath)"])
        let backup = try sandbox.drctl(["backup"])
        #expect(backup.status == 0, "\(backup)")
        let restore = try sandbox.drctl(["restore", "--target", "t", "--to", "-"])
        #expect(restore.status == 4, "\(restore)")
        #expect(restore.stderr.contains("only the public key"), "\(restore)")
        let verify = try sandbox.drctl(["verify"])
        #expect(verify.status == 4, "\(verify)")
        let withKey = try sandbox.drctl(["restore", "--target", "t", "--to", "-", "--key", sandbox.keyPath])
        #expect(withKey.status == 0 && withKey.stdout == "from a write-only host\n", "\(withKey)")
    }
}
