import Testing
@testable import DrctlCrypto

/// Format version 2's building blocks (docs/FORMAT.md, "Version 2"): Ed25519 against RFC 8032's
/// test vectors, and a manifest's MAC and signature over its exact stored bytes against the
/// vector scripts/make-crypto-vectors.py computes with Python's `cryptography` package.
@Suite struct DocumentAuthenticationTests {
    struct RFC8032Vector: Sendable, CustomStringConvertible {
        var seed: String, publicKey: String, message: String, signature: String
        var description: String { "message of \(message.count / 2) bytes" }
    }

    /// RFC 8032, section 7.1, tests 1-3.
    static let rfc8032 = [
        RFC8032Vector(seed: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
                      publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", message: "",
                      signature: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
        RFC8032Vector(seed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
                      publicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", message: "72",
                      signature: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
        RFC8032Vector(seed: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
                      publicKey: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", message: "af82",
                      signature: "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
    ]

    @Test(arguments: rfc8032)
    func ed25519MatchesRFC8032(_ vector: RFC8032Vector) {
        let seed = SecretBytes(copying: bytes(fromHex: vector.seed)), message = bytes(fromHex: vector.message)
        let publicKey = Ed25519.publicKey(seed: seed)
        #expect(hex(publicKey) == vector.publicKey)
        let signature = Ed25519.sign(message, seed: seed)
        #expect(hex(signature) == vector.signature)
        #expect(Ed25519.isValid(signature, of: message, publicKey: publicKey))
        // One flipped bit anywhere, or another message or key: not valid.
        var flipped = signature
        flipped[17] ^= 0x04
        #expect(!Ed25519.isValid(flipped, of: message, publicKey: publicKey))
        #expect(!Ed25519.isValid(signature, of: message + [0], publicKey: publicKey))
        #expect(!Ed25519.isValid(signature, of: message, publicKey: Ed25519.publicKey(seed: SecretBytes(copying: bytes(fromHex: vector.seed).reversed()))))
        #expect(!Ed25519.isValid(Array(signature.prefix(63)), of: message, publicKey: publicKey))
    }

    // scripts/make-crypto-vectors.py, "v2_manifest" (docs/FORMAT.md, "Version 2 test vectors").
    static let repositoryID = "00112233445566778899aabbccddeeff"
    static let target = "app"
    static let backupID = "20260101T000000.000Z-0a1b2c"
    static let signerID = "f0f0548da6184f43"
    static let zeroed = "{\n  \"authentication\" : {\n    \"mac\" : \"" + String(repeating: "0", count: 64)
        + "\",\n    \"signature\" : \"" + String(repeating: "0", count: 128) + "\",\n    \"signer\" : \"" + signerID
        + "\"\n  },\n  \"backup_id\" : \"" + backupID + "\",\n  \"target\" : \"" + target + "\"\n}\n"
    static let mac = "fd546b352aa4d0bc46543f4db5a554d31f5ba81fbcc95d3704a7565901f3c7fa"
    static let signature = "da2dc8ccc6746c238bdcc2e5017d28bce10c354d1a4fe8c60f0f6c8b4c1a2393724df9a861391efd706d70739a67cf741d156fac7648589b7378b154463ff706"

    static var stored: [UInt8] {
        Array(zeroed.replacingOccurrences(of: String(repeating: "0", count: 128), with: signature)
            .replacingOccurrences(of: "\"mac\" : \"" + String(repeating: "0", count: 64), with: "\"mac\" : \"" + mac).utf8)
    }

    @Test func manifestMACAndSignatureMatchTheVector() throws {
        #expect(hex(sha256(Self.stored)) == "c409be7bad286ca583253940e63a9a6a94ba07cdfea27f0e67f413a74fe2a6f8")
        let document = try AuthenticatedBytes(stored: Self.stored)
        #expect(document.zeroed == Array(Self.zeroed.utf8))
        #expect(document.mac == Self.mac && document.signature == Self.signature)

        let dataKey = try DataKey(rawBytes: Array(0x00...0x1f))
        #expect(document.manifestMAC(key: AuthenticatedBytes.manifestMACKey(dataKey), repositoryID: Self.repositoryID,
                                     target: Self.target, backupID: Self.backupID) == Self.mac)

        let secret = try SecretKey(rawBytes: Array(0x01...0x20))
        let seed = AuthenticatedBytes.signingSeed(of: secret)
        #expect(seed.withUnsafeBytes { hex($0) } == "8137fb4af731b2920f25803c0dfd07b41749a4790276ae10c2813959cb4fcc8b")
        let publicKey = Ed25519.publicKey(seed: seed)
        #expect(AuthenticatedBytes.signerID(publicKey: publicKey) == Self.signerID)
        let message = document.signedMessage(kind: "manifest", repositoryID: Self.repositoryID, target: Self.target, id: Self.backupID)
        #expect(hex(Ed25519.sign(message, seed: seed)) == Self.signature)
        #expect(Ed25519.isValid(bytes(fromHex: Self.signature), of: message, publicKey: publicKey))

        // The same bytes read as another target's, another repository's or another backup's
        // do not verify: the context is the reader's expectation.
        for (repository, target, id) in [("ffeeddccbbaa99887766554433221100", Self.target, Self.backupID),
                                         (Self.repositoryID, "other", Self.backupID),
                                         (Self.repositoryID, Self.target, "20260101T000000.000Z-0a1b2d")] {
            let moved = document.signedMessage(kind: "manifest", repositoryID: repository, target: target, id: id)
            #expect(!Ed25519.isValid(bytes(fromHex: Self.signature), of: moved, publicKey: publicKey))
            #expect(document.manifestMAC(key: AuthenticatedBytes.manifestMACKey(dataKey), repositoryID: repository,
                                         target: target, backupID: id) != Self.mac)
        }
    }

    @Test func anEditedByteChangesTheMACAndTheFieldsAreFoundOnlyOnce() throws {
        var edited = Self.stored
        let at = edited.lastIndex(of: UInt8(ascii: "p"))!   // "app" -> "apq"
        edited[at] = UInt8(ascii: "q")
        let document = try AuthenticatedBytes(stored: edited)
        let dataKey = try DataKey(rawBytes: Array(0x00...0x1f))
        #expect(document.manifestMAC(key: AuthenticatedBytes.manifestMACKey(dataKey), repositoryID: Self.repositoryID,
                                     target: Self.target, backupID: Self.backupID) != Self.mac)

        // A second "mac" field (say, one an attacker adds next to the real one): refused.
        let doubled = Array((String(decoding: Self.stored, as: UTF8.self) + "\"mac\" : \"" + Self.mac + "\"").utf8)
        #expect(throws: AuthenticatedBytes.Failure.repeated("mac")) { try AuthenticatedBytes(stored: doubled) }
        // A value of the wrong length or not lower-case hex: refused.
        let short = Array(String(decoding: Self.stored, as: UTF8.self).replacingOccurrences(of: Self.mac, with: "abc").utf8)
        #expect(throws: AuthenticatedBytes.Failure.malformed("mac")) { try AuthenticatedBytes(stored: short) }
        let upper = Array(String(decoding: Self.stored, as: UTF8.self).replacingOccurrences(of: Self.mac, with: Self.mac.uppercased()).utf8)
        #expect(throws: AuthenticatedBytes.Failure.malformed("mac")) { try AuthenticatedBytes(stored: upper) }
        // A version 1 document has neither field.
        let v1 = try AuthenticatedBytes(stored: Array("{\n  \"version\" : 1\n}\n".utf8))
        #expect(v1.mac == nil && v1.signature == nil)
    }
}
