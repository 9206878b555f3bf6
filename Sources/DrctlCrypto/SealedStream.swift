/// What a sealed stream is bound to: its header names both, and the opener checks them.
public struct StreamContext: Sendable, Equatable {
    public var backupID: String
    public var objectName: String

    public init(backupID: String, objectName: String) {
        self.backupID = backupID
        self.objectName = objectName
    }
}

/// The sealed stream v1 format (docs/FORMAT.md, "Sealed stream"):
///
///     magic "DRCTLSS1" | algorithm 1 | chunk_log2 | salt[32] | id_len[2] id | name_len[2] name | header_tag[32]
///     chunk 0 | chunk 1 | … | final chunk        each: AES-256-GCM ciphertext || tag[16]
enum SealedStreamFormat {
    static let magic = Array("DRCTLSS1".utf8)
    static let algorithmAES256GCM: UInt8 = 1
    /// Chunk sizes a stream may declare: 1 KiB ... 16 MiB.
    static let chunkLog2Range = 10...24
    static let saltSize = 32
    static let headerTagSize = 32
    /// magic, algorithm, chunk_log2, salt.
    static let fixedPrefixSize = 8 + 1 + 1 + 32
    static let chunkInfo = "drctl v1 chunk"
    static let headerInfo = "drctl v1 header"

    static func keys(dataKey: DataKey, salt: [UInt8]) -> (chunk: SecretBytes, header: SecretBytes) {
        let prk = HKDF.extract(salt: salt, ikm: dataKey.secret)
        return (HKDF.expand32(prk: prk, info: chunkInfo), HKDF.expand32(prk: prk, info: headerInfo))
    }

    /// Every header byte before the tag.
    static func headerBody(chunkLog2: Int, salt: [UInt8], context: StreamContext) -> [UInt8] {
        let id = Array(context.backupID.utf8)
        let name = Array(context.objectName.utf8)
        precondition(id.count <= 0xFFFF && name.count <= 0xFFFF, "backup id or object name longer than 65535 bytes")
        var body = magic
        body.append(algorithmAES256GCM)
        body.append(UInt8(chunkLog2))
        body += salt
        body += [UInt8(id.count >> 8), UInt8(id.count & 0xFF)] + id
        body += [UInt8(name.count >> 8), UInt8(name.count & 0xFF)] + name
        return body
    }

    /// nonce = 11-byte big-endian chunk index || final flag.
    static func setNonce(_ nonce: inout [UInt8], index: UInt64, final: Bool) {
        nonce[0] = 0
        nonce[1] = 0
        nonce[2] = 0
        for byte in 0..<8 {
            nonce[3 + byte] = UInt8(truncatingIfNeeded: index >> (56 - 8 * UInt64(byte)))
        }
        nonce[11] = final ? 1 : 0
    }
}

/// Seals a stream: splits it into chunks and encrypts each with AES-256-GCM. Not
/// thread-safe: one thread drives it.
public final class StreamSealer {
    public static let defaultChunkSize = 1 << 20

    private let gcm: AESGCM
    private let header: [UInt8]
    private let headerTag: [UInt8]
    private let chunkSize: Int
    private let recordSize: Int
    private var headerWritten = false
    private let pending: UnsafeMutableRawBufferPointer
    private var pendingCount = 0
    private var index: UInt64 = 0
    private var nonce = [UInt8](repeating: 0, count: AESGCM.nonceSize)
    private var finished = false
    /// Plaintext bytes given so far.
    public private(set) var plaintextBytes: UInt64 = 0

    /// `chunkSize` must be a power of two from 1 KiB to 16 MiB.
    public convenience init(dataKey: DataKey, context: StreamContext, chunkSize: Int = StreamSealer.defaultChunkSize) {
        precondition(chunkSize.nonzeroBitCount == 1
                     && SealedStreamFormat.chunkLog2Range.contains(chunkSize.trailingZeroBitCount),
                     "chunk size \(chunkSize) is not a power of two from 1 KiB to 16 MiB")
        self.init(dataKey: dataKey, context: context, chunkSize: chunkSize,
                  salt: secureRandomBytes(SealedStreamFormat.saltSize))
    }

    /// With a given salt, for test vectors; also admits chunk sizes below 1 KiB (from 16 bytes)
    /// so that tests can tamper with every byte of a many-chunk stream quickly.
    init(dataKey: DataKey, context: StreamContext, chunkSize: Int, salt: [UInt8]) {
        precondition(chunkSize.nonzeroBitCount == 1 && (4...24).contains(chunkSize.trailingZeroBitCount))
        precondition(salt.count == SealedStreamFormat.saltSize)
        self.chunkSize = chunkSize
        recordSize = chunkSize + AESGCM.tagSize
        let keys = SealedStreamFormat.keys(dataKey: dataKey, salt: salt)
        let body = SealedStreamFormat.headerBody(chunkLog2: chunkSize.trailingZeroBitCount, salt: salt, context: context)
        headerTag = hmacSHA256(key: keys.header, data: body)
        header = body + headerTag
        gcm = AESGCM(key: keys.chunk, encrypting: true)
        pending = .allocate(byteCount: chunkSize, alignment: 16)
    }

    deinit { pending.deallocate() }

    /// Sealed bytes ready to write (the header first), possibly none: the last chunk is held
    /// back until it is known whether more input follows.
    public func update(_ input: UnsafeRawBufferPointer) -> [UInt8] {
        precondition(!finished, "StreamSealer.update after finish")
        plaintextBytes += UInt64(input.count)
        let total = pendingCount + input.count
        let chunks = total == 0 ? 0 : (total - 1) / chunkSize
        let headerCount = headerWritten ? 0 : header.count
        let outputCount = headerCount + chunks * recordSize
        if chunks == 0 {
            appendPending(input)
            return headerCount == 0 ? [] : takeHeader()
        }
        return [UInt8](unsafeUninitializedCapacity: outputCount) { buffer, count in
            var out = UnsafeMutableRawPointer(buffer.baseAddress!)
            if headerCount > 0 {
                header.withUnsafeBytes { out.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                headerWritten = true
                out += headerCount
            }
            var consumed = 0
            var remaining = chunks
            if pendingCount > 0 {
                consumed = chunkSize - pendingCount
                (pending.baseAddress! + pendingCount).copyMemory(from: input.baseAddress!, byteCount: consumed)
                sealChunk(UnsafeRawBufferPointer(pending), final: false, to: out)
                pendingCount = 0
                out += recordSize
                remaining -= 1
            }
            while remaining > 0 {
                sealChunk(UnsafeRawBufferPointer(rebasing: input[consumed..<(consumed + chunkSize)]), final: false, to: out)
                consumed += chunkSize
                out += recordSize
                remaining -= 1
            }
            appendPending(UnsafeRawBufferPointer(rebasing: input[consumed...]))
            count = outputCount
        }
    }

    /// The rest: the header if not yet written, held-back chunks and the final chunk.
    public func finish() -> [UInt8] {
        precondition(!finished, "StreamSealer.finish called twice")
        finished = true
        let headerCount = headerWritten ? 0 : header.count
        let outputCount = headerCount + pendingCount + AESGCM.tagSize
        return [UInt8](unsafeUninitializedCapacity: outputCount) { buffer, count in
            var out = UnsafeMutableRawPointer(buffer.baseAddress!)
            if headerCount > 0 {
                header.withUnsafeBytes { out.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                headerWritten = true
                out += headerCount
            }
            sealChunk(UnsafeRawBufferPointer(rebasing: pending[0..<pendingCount]), final: true, to: out)
            pendingCount = 0
            count = outputCount
        }
    }

    private func takeHeader() -> [UInt8] {
        headerWritten = true
        return header
    }

    private func appendPending(_ input: UnsafeRawBufferPointer) {
        guard input.count > 0 else { return }
        precondition(pendingCount + input.count <= chunkSize)
        (pending.baseAddress! + pendingCount).copyMemory(from: input.baseAddress!, byteCount: input.count)
        pendingCount += input.count
    }

    private func sealChunk(_ plaintext: UnsafeRawBufferPointer, final: Bool, to output: UnsafeMutableRawPointer) {
        SealedStreamFormat.setNonce(&nonce, index: index, final: final)
        nonce.withUnsafeBytes { n in
            headerTag.withUnsafeBytes { aad in
                gcm.seal(nonce: n, aad: aad, input: plaintext, output: output)
            }
        }
        index += 1
    }
}

/// Checks and decrypts a sealed stream. Returns only authenticated plaintext; every way the
/// stream can be wrong is a distinct CryptoError. Not thread-safe: one thread drives it.
public final class StreamOpener {
    private enum Phase { case header, chunks, done }

    private let dataKey: DataKey
    private let expected: StreamContext
    private let allowedChunkLog2: ClosedRange<Int>
    private var phase = Phase.header
    private var headerBytes: [UInt8] = []
    private var failure: CryptoError?

    // Known once the header is authenticated.
    private var gcm: AESGCM?
    private var headerTag: [UInt8] = []
    private var chunkSize = 0
    private var recordSize = 0
    private var pending = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    private var pendingCount = 0
    private var index: UInt64 = 0
    private var nonce = [UInt8](repeating: 0, count: AESGCM.nonceSize)

    public convenience init(dataKey: DataKey, expected: StreamContext) {
        self.init(dataKey: dataKey, expected: expected, allowedChunkLog2: SealedStreamFormat.chunkLog2Range)
    }

    /// Tests open streams with chunks below 1 KiB.
    init(dataKey: DataKey, expected: StreamContext, allowedChunkLog2: ClosedRange<Int>) {
        self.dataKey = dataKey
        self.expected = expected
        self.allowedChunkLog2 = allowedChunkLog2
    }

    deinit { pending.deallocate() }

    /// Plaintext of the chunks authenticated so far (possibly none).
    public func update(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        if let failure { throw failure }
        precondition(phase != .done, "StreamOpener.update after finish")
        do {
            var input = input
            if phase == .header {
                let used = try consumeHeader(input)
                input = UnsafeRawBufferPointer(rebasing: input[used...])
                if phase == .header { return [] }
            }
            return try consumeChunks(input)
        } catch let error as CryptoError {
            failure = error
            throw error
        }
    }

    /// The plaintext of the final chunk, once it authenticates; throws if the stream is incomplete.
    public func finish() throws -> [UInt8] {
        if let failure { throw failure }
        precondition(phase != .done, "StreamOpener.finish called twice")
        do {
            if phase == .header {
                _ = try checkHeader(atEnd: true)
                preconditionFailure("a complete header is processed by update")
            }
            let result = try openFinal()
            phase = .done
            return result
        } catch let error as CryptoError {
            failure = error
            throw error
        }
    }

    // MARK: Header

    private var headerLength: Int { headerBytes.count }

    private func consumeHeader(_ input: UnsafeRawBufferPointer) throws -> Int {
        var used = 0
        while let needed = try checkHeader(atEnd: false) {
            let take = min(needed - headerBytes.count, input.count - used)
            if take == 0 { break }
            headerBytes += UnsafeRawBufferPointer(rebasing: input[used..<(used + take)])
            used += take
        }
        return used
    }

    private var subject: String { "object '\(expected.objectName)' of backup \(expected.backupID)" }

    /// Checks what is known of the header. Returns the header length needed to learn more, or
    /// nil once the header is complete and authenticated. At the end of the input, a header
    /// that is still incomplete is an error.
    private func checkHeader(atEnd: Bool) throws -> Int? {
        let h = headerBytes
        let magic = SealedStreamFormat.magic
        for i in 0..<min(h.count, magic.count) where h[i] != magic[i] {
            if i == magic.count - 1 {
                let version = (0x21...0x7e).contains(h[i]) ? "'\(Character(Unicode.Scalar(h[i])))'" : "byte \(h[i])"
                throw CryptoError(.unsupportedVersion,
                                  "\(subject) is a drctl sealed stream of format version \(version); this drctl reads "
                                      + "version '1': use a newer drctl to restore it")
            }
            throw CryptoError(.notSealedStream,
                              "\(subject) is not a drctl sealed stream (it does not start with \"DRCTLSS1\"): "
                                  + "the object was replaced or is not an encrypted drctl object")
        }
        func truncated(_ what: String) -> CryptoError {
            CryptoError(.truncated, "\(subject) is truncated: \(what); the stored object is incomplete, "
                            + "restore from another region or another backup")
        }
        if h.count < 10 {
            if atEnd {
                throw truncated(h.isEmpty ? "it is empty" : "it ends inside the header after \(h.count) bytes")
            }
            return h.count < 8 ? 8 : 10
        }
        if h[8] != SealedStreamFormat.algorithmAES256GCM {
            throw CryptoError(.unsupportedAlgorithm,
                              "\(subject) uses sealed stream algorithm \(h[8]); this drctl knows only 1 (AES-256-GCM): "
                                  + "use a newer drctl, or the object is damaged")
        }
        let chunkLog2 = Int(h[9])
        if !allowedChunkLog2.contains(chunkLog2) {
            throw CryptoError(.unsupportedChunkSize,
                              "\(subject) declares chunk size 2^\(chunkLog2); sealed streams have chunk sizes "
                                  + "2^\(allowedChunkLog2.lowerBound)...2^\(allowedChunkLog2.upperBound): the object is damaged")
        }
        var position = SealedStreamFormat.fixedPrefixSize
        func field(_ expectedBytes: [UInt8], mismatch: (String) -> CryptoError) throws -> Int? {
            if h.count < position + 2 {
                if atEnd { throw truncated("it ends inside the header after \(h.count) bytes") }
                return position + 2
            }
            let length = Int(h[position]) << 8 | Int(h[position + 1])
            let start = position + 2
            let end = start + length
            let present = h[start..<min(h.count, end)]
            let differs = length != expectedBytes.count || !present.elementsEqual(expectedBytes.prefix(present.count))
            if h.count < end && !atEnd { return end }
            if differs {
                var shown = String(decoding: present.prefix(120), as: UTF8.self)
                if present.count < length { shown += "…" }
                throw mismatch(shown)
            }
            if h.count < end { throw truncated("it ends inside the header after \(h.count) bytes") }
            position = end
            return nil
        }
        if let needed = try field(Array(expected.backupID.utf8), mismatch: { found in
            CryptoError(.wrongBackup,
                        "object '\(expected.objectName)': object header names backup \(found), but manifest is for backup "
                            + "\(expected.backupID): data from another backup was stored under this backup's name")
        }) {
            return needed
        }
        if let needed = try field(Array(expected.objectName.utf8), mismatch: { found in
            CryptoError(.wrongObject,
                        "\(subject): object header names object '\(found)', but the manifest expects "
                            + "'\(expected.objectName)': objects of the backup were swapped or misnamed")
        }) {
            return needed
        }
        let tagEnd = position + SealedStreamFormat.headerTagSize
        if h.count < tagEnd {
            if atEnd { throw truncated("it ends inside the header after \(h.count) bytes") }
            return tagEnd
        }
        let salt = Array(h[10..<SealedStreamFormat.fixedPrefixSize])
        let keys = SealedStreamFormat.keys(dataKey: dataKey, salt: salt)
        let computed = h.withUnsafeBytes { hmacSHA256(key: keys.header, data: UnsafeRawBufferPointer(rebasing: $0[0..<position])) }
        let stored = Array(h[position..<tagEnd])
        guard constantTimeEqual(computed, stored) else {
            throw CryptoError(.headerTampered,
                              "\(subject): the sealed stream header failed authentication: the header was altered, or the "
                                  + "object was not sealed with this backup's data key")
        }
        headerTag = stored
        chunkSize = 1 << chunkLog2
        recordSize = chunkSize + AESGCM.tagSize
        pending = .allocate(byteCount: recordSize, alignment: 16)
        gcm = AESGCM(key: keys.chunk, encrypting: false)
        phase = .chunks
        return nil
    }

    // MARK: Chunks

    private func chunkOffset(_ index: UInt64) -> UInt64 {
        UInt64(headerLength) + index * UInt64(recordSize)
    }

    private func consumeChunks(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        let total = pendingCount + input.count
        // A record is opened only once a byte after it shows that it is not the last one.
        let records = total > recordSize ? (total - 1) / recordSize : 0
        if records == 0 {
            appendPending(input)
            return []
        }
        let outputCount = records * chunkSize
        return try [UInt8](unsafeUninitializedCapacity: outputCount) { buffer, count in
            var out = UnsafeMutableRawPointer(buffer.baseAddress!)
            var consumed = 0
            var remaining = records
            if pendingCount > 0 {
                consumed = recordSize - pendingCount
                (pending.baseAddress! + pendingCount).copyMemory(from: input.baseAddress!, byteCount: consumed)
                pendingCount = recordSize
                try openRecord(UnsafeRawBufferPointer(pending), to: out)
                pendingCount = 0
                out += chunkSize
                remaining -= 1
            }
            while remaining > 0 {
                try openRecord(UnsafeRawBufferPointer(rebasing: input[consumed..<(consumed + recordSize)]), to: out)
                consumed += recordSize
                out += chunkSize
                remaining -= 1
            }
            appendPending(UnsafeRawBufferPointer(rebasing: input[consumed...]))
            count = outputCount
        }
    }

    private func appendPending(_ input: UnsafeRawBufferPointer) {
        guard input.count > 0 else { return }
        precondition(pendingCount + input.count <= recordSize)
        (pending.baseAddress! + pendingCount).copyMemory(from: input.baseAddress!, byteCount: input.count)
        pendingCount += input.count
    }

    private func tryOpen(_ record: UnsafeRawBufferPointer, index: UInt64, final: Bool,
                         to output: UnsafeMutableRawPointer) -> Bool {
        SealedStreamFormat.setNonce(&nonce, index: index, final: final)
        return nonce.withUnsafeBytes { n in
            headerTag.withUnsafeBytes { aad in
                gcm!.open(nonce: n, aad: aad, input: record, output: output)
            }
        }
    }

    /// A full record with more bytes after it: a non-final chunk.
    private func openRecord(_ record: UnsafeRawBufferPointer, to output: UnsafeMutableRawPointer) throws {
        guard tryOpen(record, index: index, final: false, to: output) else {
            throw diagnose(record, atEnd: false)
        }
        index += 1
    }

    /// The held-back bytes at the end of the input: the final chunk.
    private func openFinal() throws -> [UInt8] {
        let count = pendingCount
        if count == 0 {
            throw CryptoError(.truncated,
                              "\(subject) is truncated: it ends at byte offset \(chunkOffset(index)) without a final chunk; "
                                  + "the stored object is incomplete, restore from another region or another backup")
        }
        if count < AESGCM.tagSize {
            throw CryptoError(.truncated,
                              "\(subject) is truncated: it ends \(count) bytes into chunk \(index) (byte offset "
                                  + "\(chunkOffset(index))), too short for a chunk; the stored object is incomplete, "
                                  + "restore from another region or another backup")
        }
        let record = UnsafeRawBufferPointer(rebasing: pending[0..<count])
        var failed = false
        let plaintext = [UInt8](unsafeUninitializedCapacity: max(count - AESGCM.tagSize, 1)) { buffer, initialized in
            failed = !tryOpen(record, index: index, final: true, to: UnsafeMutableRawPointer(buffer.baseAddress!))
            initialized = failed ? 0 : count - AESGCM.tagSize
        }
        if failed { throw diagnose(record, atEnd: true) }
        pendingCount = 0
        index += 1
        return plaintext
    }

    /// Why `record` (at position `index`) does not authenticate as the chunk expected there.
    /// Only runs on failure, so it may try a few dozen decryptions.
    private func diagnose(_ record: UnsafeRawBufferPointer, atEnd: Bool) -> CryptoError {
        let offset = chunkOffset(index)
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: max(record.count, 1), alignment: 16)
        defer { scratch.deallocate() }
        func opens(_ candidate: UInt64, final: Bool) -> Bool {
            tryOpen(record, index: candidate, final: final, to: scratch.baseAddress!)
        }
        let advice = "restore from another region or another backup"
        if !atEnd && opens(index, final: true) {
            return CryptoError(.dataAppended,
                               "\(subject): chunk \(index) (byte offset \(offset)) is the final chunk, but more bytes "
                                   + "follow it: data was appended to the object; \(advice)")
        }
        if atEnd && opens(index, final: false) {
            return CryptoError(.truncated,
                               "\(subject) is truncated: it ends after chunk \(index) (byte offset \(offset)), which is "
                                   + "not the final chunk; the stored object is incomplete, \(advice)")
        }
        let low = index >= 8 ? index - 8 : 0
        for candidate in low...(index + 8) where candidate != index {
            for final in [false, true] where opens(candidate, final: final) {
                return CryptoError(.chunksReordered,
                                   "\(subject): chunk at position \(index) (byte offset \(offset)) is chunk \(candidate): "
                                       + "chunks were reordered, swapped or removed; \(advice)")
            }
        }
        SealedStreamFormat.setNonce(&nonce, index: index, final: true)
        let prefix = nonce.withUnsafeBytes { n in
            headerTag.withUnsafeBytes { aad in gcm!.authenticatingPrefix(nonce: n, aad: aad, record: record) }
        }
        if let prefix {
            let end = offset + UInt64(prefix + AESGCM.tagSize)
            return CryptoError(.dataAppended,
                               "\(subject): the final chunk (chunk \(index)) ends at byte offset \(end), but more bytes "
                                   + "follow it: data was appended to the object; \(advice)")
        }
        if atEnd && record.count < recordSize {
            return CryptoError(.truncatedOrTampered,
                               "\(subject): the stream ends with chunk \(index) (byte offset \(offset), \(record.count) "
                                   + "bytes), which fails authentication: the object was cut short inside this chunk, or "
                                   + "its final chunk was altered; \(advice)")
        }
        return CryptoError(.chunkTampered,
                           "\(subject): chunk \(index) (byte offset \(offset)) failed authentication: the stored data "
                               + "is corrupted or was altered; \(advice)")
    }
}
