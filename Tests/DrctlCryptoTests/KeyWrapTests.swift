import Foundation
import Testing
@testable import DrctlCrypto

@Suite struct KeyWrapTests {
    let secret = SecretKey.generate()
    let dataKey = DataKey.random()
    let backupID = "20260101T000000Z-0a1b2c"

    @Test func symmetricRoundTrip() throws {
        let wrapped = KeyWrap.wrapSymmetric(dataKey, with: secret, binding: .versionOne(backupID: backupID))
        #expect(wrapped.scheme == .symmetric && wrapped.keyID == secret.keyID && wrapped.ephemeralPublicKey == nil)
        #expect(try KeyWrap.unwrap(wrapped, with: secret, binding: .versionOne(backupID: backupID)) == dataKey)
        // A fresh nonce every time.
        #expect(KeyWrap.wrapSymmetric(dataKey, with: secret, binding: .versionOne(backupID: backupID)).nonce != wrapped.nonce)
    }

    @Test func recipientRoundTrip() throws {
        let wrapped = KeyWrap.wrapForRecipient(dataKey, to: secret.publicKey, binding: .versionOne(backupID: backupID))
        #expect(wrapped.scheme == .x25519 && wrapped.keyID == secret.keyID && wrapped.ephemeralPublicKey != nil)
        #expect(try KeyWrap.unwrap(wrapped, with: secret, binding: .versionOne(backupID: backupID)) == dataKey)
        let again = KeyWrap.wrapForRecipient(dataKey, to: secret.publicKey, binding: .versionOne(backupID: backupID))
        #expect(again.ephemeralPublicKey != wrapped.ephemeralPublicKey)
    }

    @Test func jsonUsesTheManifestFieldNames() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let x = KeyWrap.wrapForRecipient(dataKey, to: secret.publicKey, binding: .versionOne(backupID: backupID))
        let json = String(decoding: try encoder.encode(x), as: UTF8.self)
        #expect(json.contains("\"key_id\":\"\(secret.keyID)\""))
        #expect(json.contains("\"ephemeral_public_key\":"))
        #expect(json.contains("\"scheme\":\"x25519-hkdf-sha256-aes-256-gcm\""))
        #expect(try JSONDecoder().decode(WrappedDataKey.self, from: Data(json.utf8)) == x)
        let symmetric = String(decoding: try encoder.encode(KeyWrap.wrapSymmetric(dataKey, with: secret, binding: .versionOne(backupID: backupID))),
                               as: UTF8.self)
        #expect(symmetric.contains("\"scheme\":\"aes-256-gcm-hkdf-sha256\"") && !symmetric.contains("ephemeral"))
    }

    @Test func wrongKeyIsReported() {
        let other = SecretKey.generate()
        for wrapped in [KeyWrap.wrapSymmetric(dataKey, with: secret, binding: .versionOne(backupID: backupID)),
                        KeyWrap.wrapForRecipient(dataKey, to: secret.publicKey, binding: .versionOne(backupID: backupID))] {
            let error = #expect(throws: CryptoError.self) { try KeyWrap.unwrap(wrapped, with: other, binding: .versionOne(backupID: backupID)) }
            #expect(error?.code == CryptoError.wrongKey)
            #expect(error?.description.contains(
                "backup \(backupID) was encrypted for key \(secret.keyID), but the key given is \(other.keyID)") == true)
        }
    }

    func expectTampered(_ wrapped: WrappedDataKey, backupID: String? = nil, code: CryptoError.Code = .manifestKeyTampered,
                        sourceLocation: SourceLocation = #_sourceLocation) {
        let error = #expect(throws: CryptoError.self, sourceLocation: sourceLocation) {
            try KeyWrap.unwrap(wrapped, with: secret, binding: .versionOne(backupID: backupID ?? self.backupID))
        }
        #expect(error?.code == code, "\(error.map { "\($0)" } ?? "")", sourceLocation: sourceLocation)
    }

    static func flipFirstByte(_ base64: String) -> String {
        var raw = [UInt8](Data(base64Encoded: base64)!)
        raw[0] ^= 1
        return Data(raw).base64EncodedString()
    }

    @Test func tamperedWrappedKeyIsReported() {
        for wrapped in [KeyWrap.wrapSymmetric(dataKey, with: secret, binding: .versionOne(backupID: backupID)),
                        KeyWrap.wrapForRecipient(dataKey, to: secret.publicKey, binding: .versionOne(backupID: backupID))] {
            var ciphertext = wrapped
            ciphertext.ciphertext = Self.flipFirstByte(wrapped.ciphertext)
            expectTampered(ciphertext)
            var nonce = wrapped
            nonce.nonce = Self.flipFirstByte(wrapped.nonce)
            expectTampered(nonce)
            // Moved to another backup's manifest.
            expectTampered(wrapped, backupID: "20260102T000000Z-0a1b2c")
            var scheme = wrapped
            scheme.scheme = wrapped.scheme == .symmetric ? .x25519 : .symmetric
            scheme.ephemeralPublicKey = scheme.scheme == .x25519 ? base64(SecretKey.generate().publicKey.rawBytes) : nil
            expectTampered(scheme)
            var short = wrapped
            short.ciphertext = Data(Data(base64Encoded: wrapped.ciphertext)!.dropLast()).base64EncodedString()
            expectTampered(short, code: .malformedWrappedKey)
            var notBase64 = wrapped
            notBase64.nonce = "not base64!"
            expectTampered(notBase64, code: .malformedWrappedKey)
        }
        var ephemeral = KeyWrap.wrapForRecipient(dataKey, to: secret.publicKey, binding: .versionOne(backupID: backupID))
        ephemeral.ephemeralPublicKey = Self.flipFirstByte(ephemeral.ephemeralPublicKey!)
        expectTampered(ephemeral)
        ephemeral.ephemeralPublicKey = base64([UInt8](repeating: 0, count: 32))   // a low-order point
        expectTampered(ephemeral)
        ephemeral.ephemeralPublicKey = nil
        expectTampered(ephemeral, code: .malformedWrappedKey)
    }

    @Test func keyLengthsAreChecked() throws {
        #expect(throws: CryptoError.self) { try DataKey(rawBytes: [1, 2, 3]) }
        let error = #expect(throws: CryptoError.self) { try SecretKey(rawBytes: [UInt8](repeating: 1, count: 31)) }
        #expect(error?.code == .invalidKeyLength)
        let low = #expect(throws: CryptoError.self) { try PublicKey(rawBytes: [UInt8](repeating: 0, count: 32)) }
        #expect(low?.code == .invalidPublicKey)
        #expect(try PublicKey(rawBytes: secret.publicKey.rawBytes).keyID == secret.keyID)
    }
}
