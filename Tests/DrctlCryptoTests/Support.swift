import Foundation
import Testing
@testable import DrctlCrypto

let testContext = StreamContext(backupID: "20260101T000000Z-0a1b2c", objectName: "stdout")

func bytes(fromHex hex: String) -> [UInt8] {
    let digits = Array(hex.utf8)
    precondition(digits.count % 2 == 0)
    func value(_ c: UInt8) -> UInt8 {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        default: preconditionFailure("not hex")
        }
    }
    return stride(from: 0, to: digits.count, by: 2).map { value(digits[$0]) << 4 | value(digits[$0 + 1]) }
}

func sha256Hex(_ data: [UInt8]) -> String {
    let digest = SHA256Digest()
    data.withUnsafeBytes { digest.update($0) }
    return digest.finalizeHex()
}

/// Sizes of successive pieces, cycled: exercises every split of records across update calls.
let oddPieces = [1, 7, 1000, 3, 4096, 13, 65_537]

func pieces(_ count: Int, sizes: [Int]) -> [Range<Int>] {
    var ranges: [Range<Int>] = []
    var start = 0
    var i = 0
    while start < count {
        let end = min(count, start + sizes[i % sizes.count])
        ranges.append(start..<end)
        start = end
        i += 1
    }
    return ranges
}

func seal(_ plaintext: [UInt8], key: DataKey, context: StreamContext = testContext, chunkSize: Int,
          salt: [UInt8]? = nil, pieceSizes: [Int] = [Int.max]) -> [UInt8] {
    let sealer = salt.map { StreamSealer(dataKey: key, context: context, chunkSize: chunkSize, salt: $0) }
        ?? StreamSealer(dataKey: key, context: context, chunkSize: chunkSize, salt: secureRandomBytes(32))
    var out: [UInt8] = []
    plaintext.withUnsafeBytes { all in
        for range in pieces(plaintext.count, sizes: pieceSizes) {
            out += sealer.update(UnsafeRawBufferPointer(rebasing: all[range]))
        }
    }
    out += sealer.finish()
    #expect(sealer.plaintextBytes == UInt64(plaintext.count))
    return out
}

/// Opens with the test opener, which also admits chunk sizes below 1 KiB.
func open(_ sealed: [UInt8], key: DataKey, context: StreamContext = testContext,
          pieceSizes: [Int] = [Int.max], publicOpener: Bool = false) throws -> [UInt8] {
    let opener = publicOpener ? StreamOpener(dataKey: key, expected: context)
        : StreamOpener(dataKey: key, expected: context, allowedChunkLog2: 4...24)
    var out: [UInt8] = []
    try sealed.withUnsafeBytes { all in
        for range in pieces(sealed.count, sizes: pieceSizes) {
            out += try opener.update(UnsafeRawBufferPointer(rebasing: all[range]))
        }
    }
    out += try opener.finish()
    return out
}

/// The error opening gives, or nil if it succeeds.
func openError(_ sealed: [UInt8], key: DataKey, context: StreamContext = testContext,
               pieceSizes: [Int] = [Int.max]) -> CryptoError? {
    do {
        _ = try open(sealed, key: key, context: context, pieceSizes: pieceSizes)
        return nil
    } catch let error as CryptoError {
        return error
    } catch {
        preconditionFailure("unexpected error \(error)")
    }
}

func pattern(_ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ ($0 >> 8)) }
}

func temporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-crypto-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
