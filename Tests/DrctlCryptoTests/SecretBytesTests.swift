import Testing
@testable import DrctlCrypto

/// Key material is wiped when released (issue #22, "Secret hygiene").
@Suite struct SecretBytesTests {
    /// The test owns the memory (the object's release leaves it allocated), so it can look at
    /// it after the object is gone, without reading freed memory.
    @Test func releasedKeyMaterialIsWiped() {
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: 32, alignment: 16)
        defer { memory.deallocate() }
        var released = false
        do {
            let key = SecretBytes(adopting: memory, fill: { $0.copyBytes(from: 1...32 as ClosedRange<UInt8>) },
                                  release: { _ in released = true })
            #expect(key.withUnsafeBytes { $0.elementsEqual(1...32 as ClosedRange<UInt8>) })
        }
        #expect(released)
        #expect(memory.allSatisfy { $0 == 0 }, "left behind: \(Array(memory))")
    }

    /// A fill that fails leaves nothing behind either.
    @Test func aFailedFillIsWiped() {
        struct Refused: Error {}
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: 32, alignment: 16)
        defer { memory.deallocate() }
        #expect(throws: Refused.self) {
            _ = try SecretBytes(adopting: memory, fill: { $0.copyBytes(from: [UInt8](repeating: 7, count: 32)); throw Refused() },
                                release: { _ in })
        }
        #expect(memory.allSatisfy { $0 == 0 })
    }

    /// Every key type keeps its bytes in SecretBytes, and compares them without a copy.
    @Test func keysHoldTheirBytesInSecretBytes() throws {
        let raw = [UInt8](1...32)
        let secret: SecretBytes = try SecretKey(rawBytes: raw).secret
        let data: SecretBytes = try DataKey(rawBytes: raw).secret
        #expect(secret == SecretBytes(copying: raw) && data == secret)
        #expect(try DataKey(rawBytes: raw) != DataKey(rawBytes: [UInt8](repeating: 1, count: 32)))
    }
}
