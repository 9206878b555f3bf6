import DrctlCrypto
import DrctlPolicy
import Foundation
import Testing
@testable import DrctlJobs

/// The key ring of both modes, from real key files: which key signs what this host writes,
/// which writers it accepts, and the wrap scheme it pins.
@Suite final class KeyRingTests {
    let directory: String
    let secret = SecretKey.generate()
    let host = SigningKey.generate()
    let other = SigningKey.generate()

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-keyring-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try secret.write(to: path("backup.key"))
        try secret.publicKey.write(to: path("backup.pub"))
        try host.write(to: path("host.sig"))
        try host.writerKey.write(to: path("host.writer"))
        try other.writerKey.write(to: path("other.writer"))
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func path(_ name: String) -> String { "\(directory)/\(name)" }

    func ring(key: Bool = false, publicKey: Bool = false, signing: Bool = false, writers: [String] = [],
              scheme: EncryptionScheme? = nil) throws -> KeyRing {
        try KeyRing(policy: EncryptionPolicy(keyFile: key ? path("backup.key") : nil, publicKeyFile: publicKey ? path("backup.pub") : nil,
                                             signingKeyFile: signing ? path("host.sig") : nil, writers: writers.map(path),
                                             scheme: scheme))
    }

    @Test func symmetricModeSignsWithTheSecretKeysDerivedKey() throws {
        let keys = try ring(key: true)
        let derived = SigningKey(derivedFrom: secret)
        #expect(try keys.requireSigningKey().signerID == derived.signerID)
        #expect(keys.writers == [derived.writerKey])
        #expect(keys.pinnedScheme == nil)
    }

    /// A backup-only host signs with its own key; the writers are the listed ones, and what
    /// the ring's signing key signs, its writers accept.
    @Test func publicKeyModeSignsWithTheHostsOwnKey() throws {
        let keys = try ring(publicKey: true, signing: true, writers: ["other.writer", "host.writer"])
        #expect(keys.secretKey == nil)
        let signing = try keys.requireSigningKey()
        #expect(signing.signerID == host.signerID)
        #expect(keys.writers == [other.writerKey, host.writerKey])
        let message = Array("a manifest".utf8)
        let signature = signing.sign(message)
        #expect(keys.writers.filter { $0.hasSigned(message, signature: signature) } == [host.writerKey])
    }

    /// The restore host of public-key mode: its signing key file wins, and it accepts the listed
    /// writers and the secret key's derived one.
    @Test func aHostWithBothKeysAcceptsTheDerivedWriterToo() throws {
        let keys = try ring(key: true, publicKey: true, signing: true, writers: ["host.writer"])
        #expect(try keys.requireSigningKey().signerID == host.signerID)
        #expect(keys.writers == [host.writerKey, SigningKey(derivedFrom: secret).writerKey])
    }

    /// Reading commands on a host with the public key and the writers, and no signing key: the
    /// ring loads; only writing asks for a signing key, naming how to make one.
    @Test func aReadOnlyHostNeedsNoSigningKeyUntilItWrites() throws {
        let keys = try ring(publicKey: true, writers: ["host.writer"])
        #expect(keys.signingKey == nil && keys.writers == [host.writerKey])
        let error = #expect(throws: JobError.self) { try keys.requireSigningKey() }
        let message = error.map(String.init(describing:)) ?? ""
        #expect(message.contains("public-key mode needs this host's signing key") && message.contains(path("backup.pub"))
                && message.contains("drctl keygen --signing --out") && message.contains("encryption.signing_key_file")
                && message.contains("encryption.writers on every host"), "\(message)")
    }

    /// A signing key whose writer key no reader lists would sign what every reader refuses.
    @Test func anUnlistedSigningKeyIsRefused() throws {
        for writers in [[], ["other.writer"]] {
            let error = #expect(throws: JobError.self) { try self.ring(publicKey: true, signing: true, writers: writers) }
            let message = error.map(String.init(describing:)) ?? ""
            #expect(message.contains("encryption.signing_key_file \(path("host.sig")) (signer \(host.signerID)) is not among encryption.writers")
                    && message.contains("readers would refuse everything this host writes"), "\(message)")
        }
    }

    @Test func wrongKindsAndLooseModesAreNamed() throws {
        let writer = #expect(throws: CryptoError.self) { try self.ring(publicKey: true, writers: ["host.sig"]) }
        #expect(writer?.code == .wrongKeyKind && writer?.description.contains(path("host.sig")) == true, "\(String(describing: writer))")
        #expect(chmod(path("host.sig"), 0o644) == 0)
        let loose = #expect(throws: CryptoError.self) { try self.ring(publicKey: true, signing: true, writers: ["host.writer"]) }
        #expect(loose?.code == .keyFileTooOpen && loose?.description.contains("chmod 600 \(path("host.sig"))") == true,
                "\(String(describing: loose))")
    }

    /// A pinned scheme refuses a data key wrapped the other way, naming both, before any key is
    /// tried; the pinned one unwraps.
    @Test func thePinnedSchemeRefusesTheOther() throws {
        let dataKey = DataKey.random()
        let symmetric = KeyWrap.wrapSymmetric(dataKey, with: secret, binding: .versionOne(backupID: "b"))
        let x25519 = KeyWrap.wrapForRecipient(dataKey, to: secret.publicKey, binding: .versionOne(backupID: "b"))
        let unpinned = try ring(key: true, publicKey: true)
        #expect(try unpinned.unwrap(symmetric, binding: .versionOne(backupID: "b")) == dataKey && unpinned.unwrap(x25519, binding: .versionOne(backupID: "b")) == dataKey)

        for (scheme, accepted, refused, found) in [(EncryptionScheme.symmetric, symmetric, x25519, "x25519"),
                                                   (.x25519, x25519, symmetric, "symmetric")] {
            let keys = try ring(key: true, publicKey: scheme == .x25519, scheme: scheme)
            #expect(keys.pinnedScheme == scheme.wrapScheme)
            #expect(try keys.unwrap(accepted, binding: .versionOne(backupID: "b")) == dataKey)
            let error = #expect(throws: JobError.self) { try keys.unwrap(refused, binding: .versionOne(backupID: "b")) }
            let message = error.map(String.init(describing:)) ?? ""
            #expect(message.contains("wrapped with scheme \(found), but encryption.scheme pins \(scheme.rawValue)"), "\(message)")
        }
        // Refused on a host without the secret key too: the pin is checked first.
        let backupOnly = try ring(publicKey: true, scheme: .x25519)
        let error = #expect(throws: JobError.self) { try backupOnly.unwrap(symmetric, binding: .versionOne(backupID: "b")) }
        #expect(error.map(String.init(describing:))?.contains("pins x25519") == true)
    }
}
