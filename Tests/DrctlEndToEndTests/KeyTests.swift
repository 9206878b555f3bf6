import DrctlCrypto
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

        // A key file's directory that cannot be made (a file in the way): the operation failed.
        try Data().write(to: URL(fileURLWithPath: "\(sandbox.root)/plain"))
        let noDirectory = try Drctl.run(["keygen", "--out", "\(sandbox.root)/plain/keys/k.key"])
        #expect(noDirectory.status == 1 && noDirectory.stderr.contains("cannot create the directory \(sandbox.root)/plain/keys"), "\(noDirectory)")
    }

    /// `keygen --signing`: a private signing key and its writer key, the signer id printed; what
    /// the signing key signs, the writer key accepts. Never overwrites, and writes nothing when
    /// either file exists.
    @Test func keygenSigningWritesASigningKeyAndItsWriterKey() throws {
        let sandbox = try Sandbox()
        let signing = "\(sandbox.root)/keys/host.sig", writer = "\(sandbox.root)/keys/host.writer"
        let keygen = try Drctl.run(["keygen", "--signing", "--out", signing, "--public-out", writer])
        #expect(keygen.status == 0, "\(keygen)")
        for path in [signing, writer] {
            let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(path) mode \(String(mode ?? 0, radix: 8))")
        }
        let key = try SigningKey.load(path: signing)
        let writerKey = try WriterKey.load(path: writer)
        #expect(writerKey == key.writerKey)
        #expect(keygen.stdout.contains("signing key \(key.signerID) written to \(signing), writer key to \(writer)"), "\(keygen)")
        #expect(keygen.stdout.contains("encryption.writers"), "\(keygen)")
        let message = Array("a lock".utf8)
        #expect(writerKey.hasSigned(message, signature: key.sign(message)))

        let before = try Data(contentsOf: URL(fileURLWithPath: signing))
        let again = try Drctl.run(["keygen", "--signing", "--out", signing, "--public-out", "\(sandbox.root)/other.writer"])
        #expect(again.status == 1 && again.stderr.contains(signing) && again.stderr.contains("exists"), "\(again)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: signing)) == before)
        let writerExists = try Drctl.run(["keygen", "--signing", "--out", "\(sandbox.root)/new.sig", "--public-out", writer])
        // keygen's own KeyFileExists: exit 1, as a key file that exists anywhere else.
        #expect(writerExists.status == 1 && writerExists.stderr.contains(writer) && writerExists.stderr.contains("exists"), "\(writerExists)")
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.root)/new.sig"), "nothing written when the writer key exists")
        #expect(try WriterKey.load(path: writer) == key.writerKey)

        let alone = try Drctl.run(["keygen", "--signing", "--out", "\(sandbox.root)/alone.sig"])
        #expect(alone.status == 0, "\(alone)")
        #expect(alone.stdout.contains("signing key \(try SigningKey.load(path: "\(sandbox.root)/alone.sig").signerID) written"), "\(alone)")
        let same = try Drctl.run(["keygen", "--signing", "--out", "\(sandbox.root)/same", "--public-out", "\(sandbox.root)/same"])
        #expect(same.status != 0 && same.stderr.contains("different files"), "\(same)")
    }

    /// Without --signing keygen still makes a secret key, which no signing key loader takes.
    @Test func keygenWithoutSigningMakesASecretKey() throws {
        let sandbox = try Sandbox()
        let error = #expect(throws: CryptoError.self) { try SigningKey.load(path: sandbox.keyPath) }
        #expect(error?.code == .wrongKeyKind && error?.description.contains("is a secret key") == true, "\(String(describing: error))")
        #expect(try SecretKey.load(path: sandbox.keyPath).publicKey == PublicKey.load(path: sandbox.publicKeyPath))
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

    /// A host holding only the public key can take backups but read none. Every manifest is
    /// signed, so it needs its own signing key, listed among the writers: without one, the
    /// backup is refused naming how to make it.
    @Test func publicKeyOnlyHost() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("t", ["echo", "from a write-only host"])],
                                encryption: ["public_key_file: \(sandbox.publicKeyPath)"])
        let unsigned = try sandbox.drctl(["backup"])
        #expect(unsigned.status == 4 && unsigned.stderr.contains("drctl keygen --signing"), "\(unsigned)")
        #expect(!FileManager.default.fileExists(atPath: "\(sandbox.repository)/manifests/t"), "\(unsigned)")

        let signing = "\(sandbox.root)/host.sig", writer = "\(sandbox.root)/host.writer"
        #expect(try Drctl.run(["keygen", "--signing", "--out", signing, "--public-out", writer]).status == 0)
        try sandbox.writePolicy(targets: [("t", ["echo", "from a write-only host"])],
                                encryption: ["public_key_file: \(sandbox.publicKeyPath)", "signing_key_file: \(signing)",
                                             "writers: [\(writer)]"])
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

    /// A backup-only host of public-key mode, through the binary: its signing key file must be
    /// private and its writer key listed, each refusal a key problem (exit 4) naming the file and
    /// the fix; listed and private, the backup runs.
    @Test func aBackupHostsSigningKeyMustBePrivateAndListed() throws {
        let sandbox = try Sandbox()
        let signing = "\(sandbox.root)/host.sig", writer = "\(sandbox.root)/host.writer", other = "\(sandbox.root)/other.writer"
        #expect(try Drctl.run(["keygen", "--signing", "--out", signing, "--public-out", writer]).status == 0)
        #expect(try Drctl.run(["keygen", "--signing", "--out", "\(sandbox.root)/other.sig", "--public-out", other]).status == 0)
        func policy(writers: [String]) throws {
            try sandbox.writePolicy(targets: [("t", ["echo", "signed"])], encryption: [
                "public_key_file: \(sandbox.publicKeyPath)", "signing_key_file: \(signing)",
                "writers: \(Sandbox.flowList(writers))", "scheme: x25519",
            ])
        }

        try policy(writers: [other])
        let unlisted = try sandbox.drctl(["backup"])
        #expect(unlisted.status == 4, "\(unlisted)")
        #expect(unlisted.stderr.contains("encryption.signing_key_file \(signing)") && unlisted.stderr.contains("is not among encryption.writers"),
                "\(unlisted)")

        try policy(writers: [other, writer])
        #expect(chmod(signing, 0o644) == 0)
        let loose = try sandbox.drctl(["backup"])
        #expect(loose.status == 4 && loose.stderr.contains("signing key file \(signing) has mode 0644")
                && loose.stderr.contains("chmod 600 \(signing)"), "\(loose)")

        #expect(chmod(signing, 0o600) == 0)
        let backup = try sandbox.drctl(["backup"])
        #expect(backup.status == 0, "\(backup)")
        let restore = try sandbox.drctl(["restore", "--target", "t", "--to", "-", "--key", sandbox.keyPath])
        #expect(restore.status == 0 && restore.stdout == "signed\n", "\(restore)")
    }
}
