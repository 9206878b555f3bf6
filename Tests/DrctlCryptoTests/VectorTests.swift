import Foundation
import Testing
@testable import DrctlCrypto

/// Vectors computed by scripts/make-crypto-vectors.py with Python's `cryptography` package,
/// an implementation independent of this one (docs/FORMAT.md, "Test vectors").
@Suite struct VectorTests {
    static let dataKey = try! DataKey(rawBytes: Array(0x00...0x1f))
    static let salt = [UInt8](repeating: 0x42, count: 32)
    static let context = StreamContext(backupID: "20260101T000000Z-0a1b2c", objectName: "stdout")
    static let secret = try! SecretKey(rawBytes: Array(0x01...0x20))

    struct StreamVector: Sendable, CustomStringConvertible {
        var name: String
        var plaintext: [UInt8]
        var sealedLength: Int
        var sha256: String
        var first100: String
        var description: String { name }
    }

    static let streams = [
        StreamVector(name: "empty", plaintext: [], sealedLength: 123,
                     sha256: "cce087c989ba55bbe910212262652fa3639cfabc0ab735d9f456ad59fb091562",
                     first100: "445243544c535331010a424242424242424242424242424242424242424242424242424242424242424200173230323630313031543030303030305a2d30613162326300067374646f75747c9cb128e911108bc5b7586aa27abb38bfd051c57200f0e353"),
        StreamVector(name: "hello", plaintext: Array("hello".utf8), sealedLength: 128,
                     sha256: "7706c3ed5e0f0f58f2ab51167a122086b5088ef52278c9e9e4aa1b9044eec0a4",
                     first100: "445243544c535331010a424242424242424242424242424242424242424242424242424242424242424200173230323630313031543030303030305a2d30613162326300067374646f75747c9cb128e911108bc5b7586aa27abb38bfd051c57200f0e353"),
        StreamVector(name: "2500", plaintext: (0..<2500).map { UInt8($0 % 251) }, sealedLength: 2655,
                     sha256: "794ac791a9e399d0a4af1a2367a620ed0e3437a5fdd302d98e80eb94435f3e72",
                     first100: "445243544c535331010a424242424242424242424242424242424242424242424242424242424242424200173230323630313031543030303030305a2d30613162326300067374646f75747c9cb128e911108bc5b7586aa27abb38bfd051c57200f0e353"),
    ]

    static let emptySealedHex = "445243544c535331010a424242424242424242424242424242424242424242424242424242424242424200173230323630313031543030303030305a2d30613162326300067374646f75747c9cb128e911108bc5b7586aa27abb38bfd051c57200f0e353a816ca1b607aee3bddabaf8b185ef48738e5c8d747f59e"
    static let helloSealedHex = "445243544c535331010a424242424242424242424242424242424242424242424242424242424242424200173230323630313031543030303030305a2d30613162326300067374646f75747c9cb128e911108bc5b7586aa27abb38bfd051c57200f0e353a816ca1b607aee15b5129bd47a2f9f9fb7d0fb607a2f973d7ca96122"

    @Test(arguments: streams)
    func sealerMatchesVector(_ vector: StreamVector) throws {
        for pieceSizes in [[Int.max], [1], [7, 1000]] {
            let sealed = seal(vector.plaintext, key: Self.dataKey, context: Self.context, chunkSize: 1024, salt: Self.salt,
                              pieceSizes: pieceSizes)
            #expect(sealed.count == vector.sealedLength)
            #expect(sha256Hex(sealed) == vector.sha256)
            #expect(hex(sealed.prefix(100)) == vector.first100)
        }
    }

    @Test func shortStreamsMatchByteForByte() throws {
        let empty = seal([], key: Self.dataKey, context: Self.context, chunkSize: 1024, salt: Self.salt)
        #expect(hex(empty) == Self.emptySealedHex)
        let hello = seal(Array("hello".utf8), key: Self.dataKey, context: Self.context, chunkSize: 1024, salt: Self.salt)
        #expect(hex(hello) == Self.helloSealedHex)
        // The opener accepts the independently made bytes.
        #expect(try open(bytes(fromHex: Self.emptySealedHex), key: Self.dataKey, context: Self.context, publicOpener: true) == [])
        #expect(try open(bytes(fromHex: Self.helloSealedHex), key: Self.dataKey, context: Self.context, publicOpener: true)
                == Array("hello".utf8))
    }

    @Test func keyIDAndKeyFiles() {
        #expect(hex(Self.secret.publicKey.rawBytes) == "07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c")
        #expect(Self.secret.keyID == "aac74efcecae403d")
        #expect(Self.secret.publicKey.keyID == "aac74efcecae403d")
        func render(_ kind: KeyFile.Kind, _ raw: SecretBytes) -> String {
            String(decoding: raw.withUnsafeBytes { KeyFile.render(kind: kind, raw: $0) }, as: UTF8.self)
        }
        #expect(render(.secret, Self.secret.secret).hasSuffix("\ndrctl-secret-key-v1 AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\n"))
        #expect(render(.public, SecretBytes(copying: Self.secret.publicKey.rawBytes)).hasSuffix("\ndrctl-public-key-v1 B6N8vBQgk8i3VdwbEOhstCY3StFqqFPtC9/AsrhtHHw=\n"))
    }

    static let wrappedKey = try! DataKey(rawBytes: Array(0xa0...0xbf))
    static let symmetric = WrappedDataKey(
        scheme: .symmetric, keyID: "aac74efcecae403d", ephemeralPublicKey: nil,
        nonce: "EBESExQVFhcYGRob",
        ciphertext: "ebzdAq5zM2UJ9xWwheu5mZ0duuONAsxcBxuwXvLFUFGsKbtJE110IVExp0NO31Cp")
    static let x25519 = WrappedDataKey(
        scheme: .x25519, keyID: "aac74efcecae403d",
        ephemeralPublicKey: "ZLEBsdC+WocEvQePmJUAH8A+jp+VIvGI3RKNmEbUhGY=",
        nonce: "ICEiIyQlJicoKSor",
        ciphertext: "67z5hrPvoN9FaCLRG17AmqjyUl7hbHsPB2I6+IpBevMY8Nk3d2FIPaReikaPilyc")

    @Test func symmetricWrapVector() throws {
        #expect(try KeyWrap.unwrap(Self.symmetric, with: Self.secret, binding: .versionOne(backupID: Self.context.backupID)) == Self.wrappedKey)
        #expect(KeyWrap.wrapSymmetric(Self.wrappedKey, with: Self.secret, binding: .versionOne(backupID: Self.context.backupID),
                                      nonce: Array(0x10...0x1b)) == Self.symmetric)
    }

    @Test func x25519WrapVector() throws {
        #expect(try KeyWrap.unwrap(Self.x25519, with: Self.secret, binding: .versionOne(backupID: Self.context.backupID)) == Self.wrappedKey)
        let ephemeral = try SecretKey(rawBytes: Array(0x41...0x60))
        #expect(KeyWrap.wrapForRecipient(Self.wrappedKey, to: Self.secret.publicKey, binding: .versionOne(backupID: Self.context.backupID),
                                         ephemeral: ephemeral, nonce: Array(0x20...0x2b)) == Self.x25519)
    }

    /// docs/FORMAT.md shows these same vectors: the document is checked, not just the code.
    @Test func formatDocumentCarriesTheseVectors() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let document = try String(contentsOf: root.appendingPathComponent("docs/FORMAT.md"), encoding: .utf8)
        let section = try #require(document.range(of: "### Test vectors")).upperBound
        let text = String(document[section...])
        // Hex blocks are wrapped at 64 characters there.
        let joined = text.replacingOccurrences(of: "\n", with: "")
        for vector in Self.streams {
            #expect(text.contains("| \(vector.sealedLength) | `\(vector.sha256)` |"), "\(vector.name)")
        }
        #expect(joined.contains(Self.emptySealedHex))
        #expect(joined.contains(Self.helloSealedHex))
        for wrapped in [Self.symmetric, Self.x25519] {
            #expect(text.contains("\"ciphertext\": \"\(wrapped.ciphertext)\""))
            #expect(text.contains("\"nonce\": \"\(wrapped.nonce)\""))
        }
        #expect(text.contains("key id `\(Self.secret.keyID)`"))
    }
}
