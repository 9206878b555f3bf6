import Testing
@testable import DrctlCrypto

/// Every way a stored object can be damaged gives its own error code, and never plaintext.
/// Small chunks (64 bytes, through the internal initializers) keep the exhaustive loops fast.
@Suite struct StreamTamperTests {
    let key = DataKey.random()
    static let chunk = 64
    static let record = chunk + 16
    static let headerSize = 107   // 42 + 2 + 23 (backup id) + 2 + 6 ("stdout") + 32

    /// 150 bytes: chunks of 64, 64 and a final one of 22.
    func shortFinalStream() -> [UInt8] {
        seal(pattern(150), key: key, chunkSize: Self.chunk)
    }

    /// 128 bytes: two chunks of 64, the second one final.
    func fullFinalStream() -> [UInt8] {
        seal(pattern(128), key: key, chunkSize: Self.chunk)
    }

    func expectCode(_ sealed: [UInt8], _ code: CryptoError.Code, context: StreamContext = testContext,
                    key: DataKey? = nil, sourceLocation: SourceLocation = #_sourceLocation) -> CryptoError? {
        let error = openError(sealed, key: key ?? self.key, context: context)
        #expect(error?.code == code, "\(error.map { "\($0)" } ?? "no error")", sourceLocation: sourceLocation)
        // The same error however the input is split.
        let split = openError(sealed, key: key ?? self.key, context: context, pieceSizes: [1, 5, 80, 13])
        #expect(split?.code == error?.code, sourceLocation: sourceLocation)
        return error
    }

    /// The error a flipped bit at `position` must give, for the 150-byte stream.
    static func expectedFlipCode(position: Int, flipped: UInt8, total: Int) -> CryptoError.Code {
        switch position {
        case 0..<7: return .notSealedStream
        case 7: return .unsupportedVersion
        case 8: return .unsupportedAlgorithm
        case 9: return (4...24).contains(Int(flipped)) ? .headerTampered : .unsupportedChunkSize
        case 10..<42: return .headerTampered           // salt
        case 42..<67: return .wrongBackup              // id_len, backup id
        case 67..<75: return .wrongObject              // name_len, object name
        case 75..<107: return .headerTampered          // header tag
        default:
            let lastRecordStart = headerSize + 2 * record
            return position < lastRecordStart ? .chunkTampered : .truncatedOrTampered
        }
    }

    @Test func everyFlippedBitIsDetectedSpecifically() {
        let sealed = shortFinalStream()
        #expect(sealed.count == Self.headerSize + 2 * Self.record + 22 + 16)
        var wrong: [String] = []
        for position in 0..<sealed.count {
            for bit in 0..<8 {
                var damaged = sealed
                damaged[position] ^= 1 << bit
                let expected = Self.expectedFlipCode(position: position, flipped: damaged[position], total: sealed.count)
                for sizes in [[Int.max], [7, 1, 64]] {
                    let error = openError(damaged, key: key, pieceSizes: sizes)
                    if error?.code != expected {
                        wrong.append("byte \(position) bit \(bit) pieces \(sizes): \(error.map { "\($0.code)" } ?? "accepted"), expected \(expected)")
                    }
                }
            }
        }
        let failures = wrong.count
        #expect(failures == 0, "\(wrong.prefix(20).joined(separator: "\n"))")
    }

    @Test func flippedChunkNamesItsIndexAndOffset() {
        var sealed = shortFinalStream()
        sealed[Self.headerSize + Self.record + 3] ^= 0x10
        let error = expectCode(sealed, .chunkTampered)
        #expect(error?.message.contains("chunk 1 (byte offset \(Self.headerSize + Self.record))") == true)
    }

    @Test func everyTruncationFails() {
        for sealed in [shortFinalStream(), fullFinalStream(), seal([], key: key, chunkSize: Self.chunk)] {
            var wrong: [String] = []
            for length in 0..<sealed.count {
                let expected: CryptoError.Code
                if length <= Self.headerSize {
                    expected = .truncated
                } else {
                    let into = (length - Self.headerSize) % Self.record
                    expected = into < 16 ? .truncated : .truncatedOrTampered
                }
                for sizes in [[Int.max], [3, 64, 1]] {
                    let error = openError(Array(sealed[0..<length]), key: key, pieceSizes: sizes)
                    if error?.code != expected {
                        wrong.append("length \(length) pieces \(sizes): \(error.map { "\($0)" } ?? "accepted"), expected \(expected)")
                    }
                }
            }
            let failures = wrong.count
            #expect(failures == 0, "\(wrong.prefix(20).joined(separator: "\n"))")
        }
    }

    @Test func truncationAtAChunkBoundarySaysSo() {
        let sealed = shortFinalStream()
        let error = expectCode(Array(sealed[0..<(Self.headerSize + 2 * Self.record)]), .truncated)
        #expect(error?.message.contains("ends after chunk 1") == true)
        let empty = expectCode(Array(sealed[0..<Self.headerSize]), .truncated)
        #expect(empty?.message.contains("without a final chunk") == true)
        _ = expectCode([], .truncated)
    }

    func records(_ sealed: [UInt8]) -> [[UInt8]] {
        stride(from: Self.headerSize, to: sealed.count, by: Self.record).map {
            Array(sealed[$0..<min(sealed.count, $0 + Self.record)])
        }
    }

    func assemble(_ sealed: [UInt8], _ records: [[UInt8]]) -> [UInt8] {
        Array(sealed[0..<Self.headerSize]) + records.joined()
    }

    @Test func swappedChunksAreReported() {
        let sealed = seal(pattern(300), key: key, chunkSize: Self.chunk)   // 5 chunks, the last of 44 bytes
        var parts = records(sealed)
        parts.swapAt(0, 1)
        let error = expectCode(assemble(sealed, parts), .chunksReordered)
        #expect(error?.message.contains("chunk at position 0 (byte offset 107) is chunk 1") == true)

        var later = records(sealed)
        later.swapAt(2, 3)
        _ = expectCode(assemble(sealed, later), .chunksReordered)
    }

    @Test func swappedFinalChunkIsReported() {
        let sealed = fullFinalStream()
        var parts = records(sealed)
        parts.swapAt(0, 1)
        let error = expectCode(assemble(sealed, parts), .chunksReordered)
        #expect(error?.message.contains("is chunk 1") == true)
    }

    @Test func removedOrRepeatedChunkIsReported() {
        let sealed = seal(pattern(300), key: key, chunkSize: Self.chunk)
        var removed = records(sealed)
        removed.remove(at: 1)
        let error = expectCode(assemble(sealed, removed), .chunksReordered)
        #expect(error?.message.contains("position 1") == true && error?.message.contains("is chunk 2") == true)
        var repeated = records(sealed)
        repeated.insert(repeated[0], at: 1)
        _ = expectCode(assemble(sealed, repeated), .chunksReordered)
    }

    @Test func appendedChunkIsReported() {
        for sealed in [shortFinalStream(), fullFinalStream()] {
            let copy = records(sealed)[0]
            _ = expectCode(sealed + copy, .dataAppended)
            // The final chunk appended again, once more.
            _ = expectCode(sealed + records(sealed).last!, .dataAppended)
        }
    }

    @Test(arguments: [1, 5, 15, 16, 17, 63, 80, 81, 200])
    func trailingBytesAreReported(count: Int) {
        let trailing = [UInt8](repeating: 0xA5, count: count)
        _ = expectCode(shortFinalStream() + trailing, .dataAppended)
        _ = expectCode(fullFinalStream() + trailing, .dataAppended)
        _ = expectCode(seal([], key: key, chunkSize: Self.chunk) + trailing, .dataAppended)
    }

    @Test func anotherBackupsStreamIsReported() {
        let otherContext = StreamContext(backupID: "20251231T235959Z-ffffff", objectName: "stdout")
        let otherKey = DataKey.random()
        let other = seal(pattern(150), key: otherKey, context: otherContext, chunkSize: Self.chunk)
        let error = expectCode(other, .wrongBackup)
        #expect(error?.description.contains(
            "object header names backup 20251231T235959Z-ffffff, but manifest is for backup 20260101T000000Z-0a1b2c: data from another backup") == true)
        // Even under the same data key, and with a backup id of another length.
        let longer = seal(pattern(10), key: key, context: StreamContext(backupID: "x-20260101T000000Z-0a1b2c", objectName: "stdout"),
                          chunkSize: Self.chunk)
        _ = expectCode(longer, .wrongBackup)
    }

    @Test func anotherObjectIsReported() {
        let dump = seal(pattern(150), key: key, context: StreamContext(backupID: testContext.backupID, objectName: "db-app.dump"),
                        chunkSize: Self.chunk)
        let error = expectCode(dump, .wrongObject)
        #expect(error?.message.contains("'db-app.dump'") == true)
    }

    @Test func wrongDataKeyFailsTheHeader() {
        _ = expectCode(shortFinalStream(), .headerTampered, key: DataKey.random())
    }

    @Test func foreignAndFutureStreamsAreReported() {
        _ = expectCode(Array("PK\u{3}\u{4} this is a zip file, not a sealed stream".utf8), .notSealedStream)
        _ = expectCode(Array("DRC".utf8) + [0], .notSealedStream)
        var future = shortFinalStream()
        future[7] = UInt8(ascii: "2")
        _ = expectCode(future, .unsupportedVersion)
        var algorithm = shortFinalStream()
        algorithm[8] = 2
        _ = expectCode(algorithm, .unsupportedAlgorithm)
        var huge = shortFinalStream()
        huge[9] = 25
        _ = expectCode(huge, .unsupportedChunkSize)
        // The public opener allows only the documented 2^10 ... 2^24.
        #expect(throws: CryptoError.self) { try open(shortFinalStream(), key: key, publicOpener: true) }
        let error = #expect(throws: CryptoError.self) { try open(shortFinalStream(), key: key, publicOpener: true) }
        #expect(error?.code == .unsupportedChunkSize)
    }

    @Test func failedOpenerKeepsFailing() throws {
        var sealed = shortFinalStream()
        sealed[Self.headerSize + 1] ^= 1
        let opener = StreamOpener(dataKey: key, expected: testContext, allowedChunkLog2: 4...24)
        let first = #expect(throws: CryptoError.self) { try sealed.withUnsafeBytes { try opener.update($0) } }
        let again = #expect(throws: CryptoError.self) { try opener.finish() }
        #expect(first?.code == .chunkTampered && again?.code == .chunkTampered)
    }

    @Test func errorsMatchInCatchClauses() {
        do {
            _ = try open(Array(shortFinalStream().dropLast()), key: key)
            Issue.record("a truncated stream opened")
        } catch CryptoError.truncatedOrTampered {
            // expected
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

/// With the default 1 MiB chunks, the diagnosis of a damaged chunk (which tries neighbouring
/// nonces and every possible end of a final chunk) stays quick.
@Suite struct DefaultChunkTamperTests {
    @Test func damageInLargeChunksIsReported() throws {
        let key = DataKey.random()
        let plaintext = secureRandomBytes(2 * StreamSealer.defaultChunkSize + 1000)
        let sealed = seal(plaintext, key: key, chunkSize: StreamSealer.defaultChunkSize)
        let record = StreamSealer.defaultChunkSize + 16
        let clock = ContinuousClock()
        var flipped = sealed
        flipped[107 + 500_000] ^= 4
        let elapsed = clock.measure {
            #expect(openError(flipped, key: key)?.code == .chunkTampered)
        }
        print("diagnosing a damaged 1 MiB chunk took \(elapsed)")
        var swapped = Array(sealed[0..<107]) + sealed[(107 + record)..<(107 + 2 * record)] + sealed[107..<(107 + record)]
        swapped += sealed[(107 + 2 * record)...]
        #expect(openError(swapped, key: key)?.code == .chunksReordered)
        #expect(openError(sealed + [0], key: key)?.code == .dataAppended)
        #expect(openError(Array(sealed.dropLast(100)), key: key)?.code == .truncatedOrTampered)
        #expect(openError(Array(sealed[0..<(107 + 2 * record)]), key: key)?.code == .truncated)
        #expect(try open(sealed, key: key) == plaintext)
    }
}
