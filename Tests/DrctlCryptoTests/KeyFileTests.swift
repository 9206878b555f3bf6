import Foundation
import Testing
@testable import DrctlCrypto

@Suite final class KeyFileTests {
    let directory: String

    init() throws {
        directory = try temporaryDirectory()
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func path(_ name: String) -> String { directory + "/" + name }

    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! NSNumber).intValue
    }

    /// A key file made by hand, private (0600) as a secret key file must be.
    func write(_ text: String, to name: String) throws -> String {
        try text.write(toFile: path(name), atomically: false, encoding: .utf8)
        #expect(chmod(path(name), 0o600) == 0)
        return path(name)
    }

    func loadError(_ load: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> CryptoError.Code? {
        let error = #expect(throws: CryptoError.self, sourceLocation: sourceLocation) { try load() }
        return error?.code
    }

    @Test func secretKeyFileRoundTrip() throws {
        let key = SecretKey.generate()
        try key.write(to: path("repo.key"))
        #expect(try mode(path("repo.key")) == 0o600)
        let loaded = try SecretKey.load(path: path("repo.key"))
        #expect(loaded.keyID == key.keyID && loaded.secret == key.secret)
        let text = try String(contentsOfFile: path("repo.key"), encoding: .utf8)
        #expect(text.hasPrefix("# drctl secret key"))
        #expect(text.contains("\ndrctl-secret-key-v1 "))
    }

    @Test func publicKeyFileRoundTrip() throws {
        let key = SecretKey.generate()
        try key.publicKey.write(to: path("repo.pub"))
        #expect(try mode(path("repo.pub")) == 0o600)
        let loaded = try PublicKey.load(path: path("repo.pub"))
        #expect(loaded == key.publicKey && loaded.keyID == key.keyID)
        let text = try String(contentsOfFile: path("repo.pub"), encoding: .utf8)
        #expect(text.contains("only create backups, not read them"))
    }

    @Test func keyFilesAreNeverOverwritten() throws {
        let first = SecretKey.generate()
        try first.write(to: path("repo.key"))
        let before = try Data(contentsOf: URL(fileURLWithPath: path("repo.key")))
        let error = #expect(throws: CryptoError.self) { try SecretKey.generate().write(to: path("repo.key")) }
        #expect(error?.code == .keyFileExists)
        #expect(error?.description.contains("already exists") == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path("repo.key"))) == before)
        #expect(try SecretKey.load(path: path("repo.key")).keyID == first.keyID)

        try first.publicKey.write(to: path("repo.pub"))
        #expect(loadError { try first.publicKey.write(to: path("repo.pub")) } == .keyFileExists)
        #expect(loadError { try first.publicKey.write(to: path("no/such/dir/repo.pub")) } == .keyFileWriteFailed)
    }

    @Test func missingAndUnreadableFiles() throws {
        #expect(loadError { _ = try SecretKey.load(path: path("absent.key")) } == .keyFileMissing)
        #expect(loadError { _ = try PublicKey.load(path: path("absent.pub")) } == .keyFileMissing)
        // A directory opens but cannot be read (also when the tests run as root).
        #expect(loadError { _ = try SecretKey.load(path: directory) } == .keyFileUnreadable)
    }

    @Test func swappedKindsAreReported() throws {
        let key = SecretKey.generate()
        try key.write(to: path("repo.key"))
        try key.publicKey.write(to: path("repo.pub"))
        let error = #expect(throws: CryptoError.self) { try PublicKey.load(path: path("repo.key")) }
        #expect(error?.code == .secretKeyGivenForPublic)
        #expect(error?.description.contains("is a secret key; give the public key") == true)
        #expect(loadError { _ = try SecretKey.load(path: path("repo.pub")) } == .publicKeyGivenForSecret)
    }

    @Test func malformedFilesAreReported() throws {
        let good = Data([UInt8](repeating: 7, count: 32)).base64EncodedString()
        let malformed = [
            "",
            "# only a comment\n",
            "hello world\n",
            "drctl-secret-key-v1\n",
            "drctl-secret-key-v1 ***not base64***\n",
            "drctl-secret-key-v1 \(good)\ndrctl-secret-key-v1 \(good)\n",
            "drctl-secret-key-v2 \(good)\n",
        ]
        for (i, text) in malformed.enumerated() {
            let file = try write(text, to: "bad\(i).key")
            #expect(loadError { _ = try SecretKey.load(path: file) } == .malformedKeyFile, "\(text)")
        }
        let binary = path("binary.key")
        try Data([0xff, 0xfe, 0x00, 0x80]).write(to: URL(fileURLWithPath: binary))
        #expect(loadError { _ = try SecretKey.load(path: binary) } == .malformedKeyFile)

        let short = try write("drctl-secret-key-v1 \(Data([UInt8](repeating: 7, count: 31)).base64EncodedString())\n", to: "short.key")
        #expect(loadError { _ = try SecretKey.load(path: short) } == .invalidKeyLength)
        let long = try write("drctl-public-key-v1 \(Data([UInt8](repeating: 7, count: 33)).base64EncodedString())\n", to: "long.pub")
        #expect(loadError { _ = try PublicKey.load(path: long) } == .invalidKeyLength)
    }

    @Test func commentsBlankLinesAndCRLFAreAccepted() throws {
        let raw = [UInt8](1...32)
        let text = "# made by hand\r\n\r\n# second comment\r\ndrctl-secret-key-v1 \(Data(raw).base64EncodedString())\r\n\r\n"
        let file = try write(text, to: "crlf.key")
        #expect(try SecretKey.load(path: file).secret == SecretBytes(copying: raw))
    }

    /// A secret key file others may read is refused, naming the file, its mode and the fix;
    /// a public key file is no secret. A root-owned file may be read by its group (mode 0640 or
    /// less), as PostgreSQL allows for its TLS key: that is how Kubernetes mounts a Secret when
    /// the pod sets `fsGroup` (root:fsGroup, 0440 whatever `defaultMode` says).
    @Test func aSecretKeyFileOthersMayReadIsRefused() throws {
        let key = SecretKey.generate()
        let file = path("repo.key")
        try key.write(to: file)
        try key.publicKey.write(to: path("repo.pub"))
        for mode: mode_t in [0o644, 0o604, 0o660, 0o620, 0o606, 0o700 | 0o044] {
            #expect(chmod(file, mode) == 0)
            let error = #expect(throws: CryptoError.self) { try SecretKey.load(path: file) }
            #expect(error?.code == .keyFileTooOpen, "mode \(String(mode, radix: 8))")
            let message = error?.description ?? ""
            #expect(message.contains(file) && message.contains("mode 0\(String(mode, radix: 8))")
                    && message.contains("chmod 600 \(file)"), "\(message)")
        }
        for mode: mode_t in [0o600, 0o400] {
            #expect(chmod(file, mode) == 0)
            #expect(try SecretKey.load(path: file).keyID == key.keyID, "mode \(String(mode, radix: 8))")
        }
        #expect(chmod(path("repo.pub"), 0o644) == 0)
        #expect(try PublicKey.load(path: path("repo.pub")).keyID == key.keyID)

        // Group-readable: only when root owns the file (these tests run as root; chown needs it).
        guard getuid() == 0 else { return }
        for mode: mode_t in [0o640, 0o440] {
            #expect(chmod(file, mode) == 0)
            #expect(try SecretKey.load(path: file).keyID == key.keyID, "root-owned, mode \(String(mode, radix: 8))")
        }
        #expect(chown(file, 10001, 10001) == 0)
        let error = #expect(throws: CryptoError.self) { try SecretKey.load(path: file) }
        #expect(error?.code == .keyFileTooOpen && error?.description.contains("mode 0440") == true, "\(String(describing: error))")
    }

    // MARK: - Writer keys (format version 2)

    /// A signing key and its writer key, written and loaded back: what the loaded signing key
    /// signs, the loaded writer key accepts, and no other writer key does.
    @Test func signingAndWriterKeyFilesRoundTrip() throws {
        let key = SigningKey.generate()
        try key.write(to: path("host.sig"))
        try key.writerKey.write(to: path("host.writer"))
        #expect(try mode(path("host.sig")) == 0o600 && mode(path("host.writer")) == 0o600)
        let signing = try SigningKey.load(path: path("host.sig"))
        let writer = try WriterKey.load(path: path("host.writer"))
        #expect(signing.seed == key.seed && writer == key.writerKey && writer.signerID == key.signerID)
        let message = Array("a manifest's bytes".utf8)
        let signature = signing.sign(message)
        #expect(writer.hasSigned(message, signature: signature))
        #expect(!writer.hasSigned(Array("another manifest's bytes".utf8), signature: signature))
        #expect(!SigningKey.generate().writerKey.hasSigned(message, signature: signature))

        let signingText = try String(contentsOfFile: path("host.sig"), encoding: .utf8)
        #expect(signingText.hasPrefix("# drctl signing key") && signingText.contains("\ndrctl-signing-key-v1 "), "\(signingText)")
        let writerText = try String(contentsOfFile: path("host.writer"), encoding: .utf8)
        #expect(writerText.hasPrefix("# drctl writer key") && writerText.contains("encryption.writers")
                && writerText.contains("\ndrctl-writer-key-v1 "), "\(writerText)")

        #expect(loadError { try SigningKey.generate().write(to: path("host.sig")) } == .keyFileExists)
        #expect(loadError { try SigningKey.generate().writerKey.write(to: path("host.writer")) } == .keyFileExists)
        #expect(try SigningKey.load(path: path("host.sig")).signerID == key.signerID)
    }

    /// Every load of a file of another kind names what the file is and what was expected.
    @Test func signingAndWriterKindsAreNamed() throws {
        let secret = SecretKey.generate(), signing = SigningKey.generate()
        try secret.write(to: path("repo.key"))
        try secret.publicKey.write(to: path("repo.pub"))
        try signing.write(to: path("host.sig"))
        try signing.writerKey.write(to: path("host.writer"))
        let cases: [(load: () throws -> Void, file: String, found: String, expected: String)] = [
            ({ _ = try SigningKey.load(path: self.path("host.writer")) }, "host.writer", "is a writer key", "drctl-signing-key-v1"),
            ({ _ = try SigningKey.load(path: self.path("repo.key")) }, "repo.key", "is a secret key", "drctl-signing-key-v1"),
            ({ _ = try SigningKey.load(path: self.path("repo.pub")) }, "repo.pub", "is a public key", "drctl-signing-key-v1"),
            ({ _ = try WriterKey.load(path: self.path("host.sig")) }, "host.sig", "is a signing key (a signing key stays on its own host)",
             "drctl-writer-key-v1"),
            ({ _ = try WriterKey.load(path: self.path("repo.pub")) }, "repo.pub", "is a public key", "drctl-writer-key-v1"),
            ({ _ = try SecretKey.load(path: self.path("host.sig")) }, "host.sig", "is a signing key", "drctl-secret-key-v1"),
            ({ _ = try PublicKey.load(path: self.path("host.writer")) }, "host.writer", "is a writer key", "drctl-public-key-v1"),
        ]
        for (load, file, found, expected) in cases {
            let error = #expect(throws: CryptoError.self) { try load() }
            #expect(error?.code == .wrongKeyKind, "\(file): \(String(describing: error))")
            let message = error?.description ?? ""
            #expect(message.contains("key file \(path(file)) \(found)") && message.contains(expected), "\(message)")
        }
        let signingForWriter = #expect(throws: CryptoError.self) { try WriterKey.load(path: path("repo.key")) }
        #expect(signingForWriter?.description.contains("`drctl keygen --signing --public-out`") == true)
    }

    /// A signing key file others may read is refused like a secret key file, saying what the
    /// reader could do with it; a writer key file is public.
    @Test func aSigningKeyFileOthersMayReadIsRefused() throws {
        let key = SigningKey.generate()
        let file = path("host.sig")
        try key.write(to: file)
        try key.writerKey.write(to: path("host.writer"))
        for mode: mode_t in [0o644, 0o604, 0o660, 0o620] {
            #expect(chmod(file, mode) == 0)
            let error = #expect(throws: CryptoError.self) { try SigningKey.load(path: file) }
            #expect(error?.code == .keyFileTooOpen, "mode \(String(mode, radix: 8))")
            let message = error?.description ?? ""
            #expect(message.contains("signing key file \(file) has mode 0\(String(mode, radix: 8))")
                    && message.contains("can sign what readers accept as this host's") && message.contains("chmod 600 \(file)"), "\(message)")
        }
        #expect(chmod(file, 0o400) == 0)
        #expect(try SigningKey.load(path: file).signerID == key.signerID)
        #expect(chmod(path("host.writer"), 0o644) == 0)
        #expect(try WriterKey.load(path: path("host.writer")) == key.writerKey)
    }

    @Test func malformedSigningAndWriterKeyFiles() throws {
        let short = Data([UInt8](repeating: 7, count: 31)).base64EncodedString()
        let signing = try write("drctl-signing-key-v1 \(short)\n", to: "short.sig")
        #expect(loadError { _ = try SigningKey.load(path: signing) } == .invalidKeyLength)
        let writer = try write("drctl-writer-key-v1 \(short)\n", to: "short.writer")
        #expect(loadError { _ = try WriterKey.load(path: writer) } == .invalidKeyLength)
        let unknown = try write("drctl-writer-key-v2 \(Data([UInt8](repeating: 7, count: 32)).base64EncodedString())\n", to: "v2.writer")
        let error = #expect(throws: CryptoError.self) { try WriterKey.load(path: unknown) }
        #expect(error?.code == .malformedKeyFile && error?.description.contains("drctl-writer-key-v1") == true, "\(String(describing: error))")
    }
}
