import Testing
@testable import DrctlCrypto

@Suite struct PrimitiveTests {
    @Test func sha256KnownAnswers() {
        #expect(sha256Hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func sha256InPieces() {
        let data = pattern(100_000)
        let digest = SHA256Digest()
        data.withUnsafeBytes { all in
            for range in pieces(data.count, sizes: oddPieces) { digest.update(UnsafeRawBufferPointer(rebasing: all[range])) }
        }
        #expect(digest.finalizeHex() == sha256Hex(data))
    }

    @Test func hkdfMatchesRFC5869Case1() {
        // RFC 5869, A.1 (first 32 of the 42 output bytes).
        let ikm = [UInt8](repeating: 0x0b, count: 22)
        let salt = Array(UInt8(0x00)...UInt8(0x0c))
        let prk = HKDF.extract(salt: salt, ikm: SecretBytes(copying: ikm))
        #expect(prk.withUnsafeBytes { hex($0) } == "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5")
        let okm = hmacSHA256(key: prk, data: Array(UInt8(0xf0)...UInt8(0xf9)) + [1])
        #expect(hex(okm) == "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf")
    }

    @Test func randomBytes() {
        #expect(secureRandomBytes(0).isEmpty)
        #expect(secureRandomBytes(32).count == 32)
        #expect(secureRandomBytes(32) != secureRandomBytes(32))
    }

    @Test func openSSLVersion() {
        #expect(OpenSSLInfo.version.hasPrefix("3."))
    }
}
