import Foundation
import Testing
@testable import DrctlCrypto

@Suite struct StreamRoundTripTests {
    let key = DataKey.random()

    @Test(arguments: [0, 1, 1023, 1024, 1025, 2048, 5 * 1024 + 7])
    func roundTripWholeInput(size: Int) throws {
        let plaintext = pattern(size)
        let sealed = seal(plaintext, key: key, chunkSize: 1024)
        let chunks = max(1, (size + 1023) / 1024)
        #expect(sealed.count == 107 + size + 16 * chunks)
        #expect(try open(sealed, key: key, publicOpener: true) == plaintext)
    }

    @Test(arguments: [0, 1, 1023, 1024, 1025, 5 * 1024 + 7, 20_000])
    func roundTripOddPieces(size: Int) throws {
        let plaintext = pattern(size)
        let sealed = seal(plaintext, key: key, chunkSize: 1024, pieceSizes: oddPieces)
        #expect(try open(sealed, key: key, pieceSizes: oddPieces.reversed(), publicOpener: true) == plaintext)
        #expect(try open(sealed, key: key, pieceSizes: [1]) == plaintext)
    }

    @Test func sealingDoesNotDependOnHowInputIsSplit() {
        let plaintext = pattern(10_000)
        let salt = [UInt8](repeating: 7, count: 32)
        let whole = seal(plaintext, key: key, chunkSize: 1024, salt: salt)
        #expect(seal(plaintext, key: key, chunkSize: 1024, salt: salt, pieceSizes: oddPieces) == whole)
        #expect(seal(plaintext, key: key, chunkSize: 1024, salt: salt, pieceSizes: [1]) == whole)
        #expect(seal(plaintext, key: key, chunkSize: 1024, salt: salt, pieceSizes: [1024]) == whole)
    }

    @Test func sealerHoldsBackAtMostOneChunk() {
        let sealer = StreamSealer(dataKey: key, context: testContext, chunkSize: 1024)
        let headerOnly = [UInt8](repeating: 1, count: 1024).withUnsafeBytes { sealer.update($0) }
        #expect(headerOnly.count == 107)   // the one full chunk may be the final one
        let next = [UInt8](repeating: 1, count: 1).withUnsafeBytes { sealer.update($0) }
        #expect(next.count == 1024 + 16)   // now it is known not to be
        #expect(sealer.finish().count == 1 + 16)
    }

    @Test func openerReturnsChunksAsTheyAuthenticate() throws {
        let plaintext = pattern(3000)
        let sealed = seal(plaintext, key: key, chunkSize: 1024)
        let opener = StreamOpener(dataKey: key, expected: testContext)
        let firstTwo = 107 + 2 * 1040 + 1
        let early = try sealed[0..<firstTwo].withUnsafeBytes { try opener.update($0) }
        #expect(early == Array(plaintext[0..<2048]))
        let rest = try sealed[firstTwo...].withUnsafeBytes { try opener.update($0) }
        #expect(rest.isEmpty)
        #expect(try opener.finish() == Array(plaintext[2048...]))
    }

    @Test func defaultChunkSizeRoundTrip() throws {
        let plaintext = secureRandomBytes(3 * StreamSealer.defaultChunkSize + 5)
        let sealer = StreamSealer(dataKey: key, context: testContext)
        var sealed: [UInt8] = []
        plaintext.withUnsafeBytes { all in
            for range in pieces(plaintext.count, sizes: [65_536 + 3, 1_500_000, 17]) {
                sealed += sealer.update(UnsafeRawBufferPointer(rebasing: all[range]))
            }
        }
        sealed += sealer.finish()
        #expect(sealed[9] == 20)
        #expect(sealed.count == 107 + plaintext.count + 4 * 16)
        #expect(try open(sealed, key: key, pieceSizes: [1 << 20, 333_333], publicOpener: true) == plaintext)
    }

    /// Throughput, in this (debug) build: sealing, hashing the sealed bytes and opening 256 MiB.
    @Test func throughput() throws {
        let piece = secureRandomBytes(1 << 20)
        let sealer = StreamSealer(dataKey: key, context: testContext)
        let digest = SHA256Digest()
        let opener = StreamOpener(dataKey: key, expected: testContext)
        let clock = ContinuousClock()
        var opened = 0
        let elapsed = try clock.measure {
            for _ in 0..<256 {
                let sealed = piece.withUnsafeBytes { sealer.update($0) }
                sealed.withUnsafeBytes { digest.update($0) }
                opened += try sealed.withUnsafeBytes { try opener.update($0) }.count
            }
            let last = sealer.finish()
            last.withUnsafeBytes { digest.update($0) }
            opened += try last.withUnsafeBytes { try opener.update($0) }.count
            opened += try opener.finish().count
        }
        #expect(opened == 256 << 20)
        _ = digest.finalizeHex()
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("seal + sha256 + open of 256 MiB: \(String(format: "%.2f", seconds)) s, "
              + "\(String(format: "%.0f", 256 / seconds)) MiB/s")
    }
}
