import COpenSSL

// Thin wrappers over OpenSSL 3. Failures of OpenSSL itself (out of memory, a broken
// library) are not recoverable conditions for drctl and stop the process with the
// OpenSSL error queue in the message; everything an input can cause is a CryptoError.

/// The OpenSSL library drctl runs on.
public enum OpenSSLInfo {
    /// The version of the loaded library, e.g. "3.0.13".
    public static var version: String { String(cString: OpenSSL_version(OPENSSL_VERSION_STRING)) }
}

/// `n` bytes from OpenSSL's CSPRNG.
public func secureRandomBytes(_ n: Int) -> [UInt8] {
    precondition(n >= 0)
    if n == 0 { return [] }
    return [UInt8](unsafeUninitializedCapacity: n) { buffer, count in
        guard RAND_bytes(buffer.baseAddress, Int32(n)) == 1 else { opensslFailure("RAND_bytes") }
        count = n
    }
}

func opensslFailure(_ what: String) -> Never {
    var messages: [String] = []
    while case let code = ERR_get_error(), code != 0 {
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    fatalError("OpenSSL \(what) failed: \(messages.joined(separator: "; "))")
}

@inline(__always)
func check(_ result: Int32, _ what: String) {
    if result != 1 { opensslFailure(what) }
}

/// Streaming SHA-256 (EVP; uses the SHA extensions of the CPU when present).
public final class SHA256Digest {
    private let ctx: OpaquePointer
    private var finalized = false

    public init() {
        guard let ctx = EVP_MD_CTX_new() else { opensslFailure("EVP_MD_CTX_new") }
        self.ctx = ctx
        check(EVP_DigestInit_ex(ctx, EVP_sha256(), nil), "EVP_DigestInit_ex")
    }

    deinit { EVP_MD_CTX_free(ctx) }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        precondition(!finalized, "SHA256Digest.update after finalizeHex")
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        check(EVP_DigestUpdate(ctx, base, bytes.count), "EVP_DigestUpdate")
    }

    /// The digest as 64 lowercase hex characters. Call once; the digest takes no more input.
    public func finalizeHex() -> String {
        hex(finalizeBytes())
    }

    func finalizeBytes() -> [UInt8] {
        precondition(!finalized, "SHA256Digest finalized twice")
        finalized = true
        return [UInt8](unsafeUninitializedCapacity: 32) { buffer, count in
            var length: UInt32 = 0
            check(EVP_DigestFinal_ex(ctx, buffer.baseAddress, &length), "EVP_DigestFinal_ex")
            count = Int(length)
        }
    }
}

public func sha256(_ bytes: [UInt8]) -> [UInt8] {
    let digest = SHA256Digest()
    bytes.withUnsafeBytes { digest.update($0) }
    return digest.finalizeBytes()
}

private let hexDigits = Array("0123456789abcdef".utf8)

public func hex(_ bytes: some Collection<UInt8>) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        out.append(hexDigits[Int(byte >> 4)])
        out.append(hexDigits[Int(byte & 15)])
    }
    return String(decoding: out, as: UTF8.self)
}

// MARK: HMAC and HKDF (RFC 5869) over SHA-256

public func hmacSHA256(key: [UInt8], data: UnsafeRawBufferPointer) -> [UInt8] {
    // An empty HMAC key is the same as 64 zero bytes; pass a real pointer either way.
    let key = key.isEmpty ? [UInt8](repeating: 0, count: 32) : key
    return [UInt8](unsafeUninitializedCapacity: 32) { out, count in
        key.withUnsafeBytes { hmacSHA256(key: $0, data: data, to: UnsafeMutableRawBufferPointer(out)) }
        count = 32
    }
}

/// A MAC keyed with key material (a stream's header key).
func hmacSHA256(key: SecretBytes, data: UnsafeRawBufferPointer) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: 32) { out, count in
        key.withUnsafeBytes { hmacSHA256(key: $0, data: data, to: UnsafeMutableRawBufferPointer(out)) }
        count = 32
    }
}

func hmacSHA256(key: SecretBytes, data: [UInt8]) -> [UInt8] {
    data.withUnsafeBytes { hmacSHA256(key: key, data: $0) }
}

/// HMAC-SHA256 of `data` into the first 32 bytes of `out`; `key` must not be empty.
private func hmacSHA256(key: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer, to out: UnsafeMutableRawBufferPointer) {
    precondition(key.count > 0 && out.count >= 32)
    var length: UInt32 = 0
    let result = HMAC(EVP_sha256(), key.baseAddress, Int32(key.count),
                      data.baseAddress?.assumingMemoryBound(to: UInt8.self), data.count,
                      out.baseAddress?.assumingMemoryBound(to: UInt8.self), &length)
    if result == nil || length != 32 { opensslFailure("HMAC") }
}

public func hmacSHA256(key: [UInt8], data: [UInt8]) -> [UInt8] {
    data.withUnsafeBytes { hmacSHA256(key: key, data: $0) }
}

/// Every key HKDF takes in or gives out is key material, so it stays in SecretBytes.
enum HKDF {
    static func extract(salt: [UInt8], ikm: SecretBytes) -> SecretBytes {
        // An empty salt is the same as 32 zero bytes (RFC 5869); HMAC needs a real pointer.
        let salt = salt.isEmpty ? [UInt8](repeating: 0, count: 32) : salt
        return SecretBytes(count: 32) { out in
            salt.withUnsafeBytes { s in ikm.withUnsafeBytes { hmacSHA256(key: s, data: $0, to: out) } }
        }
    }

    /// HKDF-Expand for one 32-byte block: HMAC(prk, info || 0x01).
    static func expand32(prk: SecretBytes, info: String) -> SecretBytes {
        let input = Array(info.utf8) + [1]
        return SecretBytes(count: 32) { out in
            prk.withUnsafeBytes { p in input.withUnsafeBytes { hmacSHA256(key: p, data: $0, to: out) } }
        }
    }

    static func derive32(ikm: SecretBytes, salt: [UInt8], info: String) -> SecretBytes {
        expand32(prk: extract(salt: salt, ikm: ikm), info: info)
    }
}

// MARK: X25519

enum X25519 {
    /// OpenSSL keeps its own copy of the private key, and wipes it when the key is freed.
    private static func privateKey(_ raw: SecretBytes) -> OpaquePointer {
        precondition(raw.count == 32)
        let key = raw.withUnsafeBytes {
            EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nil, $0.baseAddress?.assumingMemoryBound(to: UInt8.self), 32)
        }
        guard let key else { opensslFailure("EVP_PKEY_new_raw_private_key") }
        return key
    }

    static func publicKey(ofPrivate raw: SecretBytes) -> [UInt8] {
        let key = privateKey(raw)
        defer { EVP_PKEY_free(key) }
        var length = 32
        var out = [UInt8](repeating: 0, count: 32)
        check(EVP_PKEY_get_raw_public_key(key, &out, &length), "EVP_PKEY_get_raw_public_key")
        return out
    }

    /// The shared secret, or nil if the peer key is a low-order point (all-zero result).
    static func sharedSecret(privateKey raw: SecretBytes, peer: [UInt8]) -> SecretBytes? {
        let key = privateKey(raw)
        defer { EVP_PKEY_free(key) }
        let peerKey = peer.withUnsafeBufferPointer {
            EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nil, $0.baseAddress, 32)
        }
        guard let peerKey else { return nil }
        defer { EVP_PKEY_free(peerKey) }
        guard let ctx = EVP_PKEY_CTX_new(key, nil) else { opensslFailure("EVP_PKEY_CTX_new") }
        defer { EVP_PKEY_CTX_free(ctx) }
        check(EVP_PKEY_derive_init(ctx), "EVP_PKEY_derive_init")
        guard EVP_PKEY_derive_set_peer(ctx, peerKey) == 1 else { ERR_clear_error(); return nil }
        var derived = true
        let shared = SecretBytes(count: 32) { out in
            var length = 32
            derived = EVP_PKEY_derive(ctx, out.baseAddress?.assumingMemoryBound(to: UInt8.self), &length) == 1 && length == 32
        }
        guard derived else { ERR_clear_error(); return nil }
        if shared == zeroSecret { return nil }
        return shared
    }

    private static let zeroSecret = SecretBytes(copying: [UInt8](repeating: 0, count: 32))
}

// MARK: AES-256-GCM with a cached key schedule

/// One AES-256-GCM key, set up once; each message then only sets its 12-byte nonce.
/// Not thread-safe.
final class AESGCM {
    static let tagSize = 16
    static let nonceSize = 12

    private let ctx: OpaquePointer
    private let encrypting: Bool
    /// A second context for copies of `ctx` (searching for a final chunk's end).
    private var scratch: OpaquePointer?

    /// The context holds the key schedule; OpenSSL wipes it when the context is freed.
    init(key: SecretBytes, encrypting: Bool) {
        precondition(key.count == 32)
        guard let ctx = EVP_CIPHER_CTX_new() else { opensslFailure("EVP_CIPHER_CTX_new") }
        self.ctx = ctx
        self.encrypting = encrypting
        key.withUnsafeBytes { raw in
            let k = raw.baseAddress?.assumingMemoryBound(to: UInt8.self)
            if encrypting {
                check(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nil, k, nil), "EVP_EncryptInit_ex")
            } else {
                check(EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nil, k, nil), "EVP_DecryptInit_ex")
            }
        }
    }

    deinit {
        EVP_CIPHER_CTX_free(ctx)
        if let scratch { EVP_CIPHER_CTX_free(scratch) }
    }

    /// Encrypts `input` to `output`, which must have room for input.count + 16 bytes:
    /// the ciphertext, then the tag. `input` and `output` may not overlap.
    func seal(nonce: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer,
              input: UnsafeRawBufferPointer, output: UnsafeMutableRawPointer) {
        precondition(encrypting && nonce.count == AESGCM.nonceSize)
        check(EVP_EncryptInit_ex(ctx, nil, nil, nil, nonce.baseAddress!.assumingMemoryBound(to: UInt8.self)),
              "EVP_EncryptInit_ex(nonce)")
        var length: Int32 = 0
        if aad.count > 0 {
            check(EVP_EncryptUpdate(ctx, nil, &length, aad.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                    Int32(aad.count)), "EVP_EncryptUpdate(aad)")
        }
        let out = output.assumingMemoryBound(to: UInt8.self)
        var written = 0
        if input.count > 0 {
            check(EVP_EncryptUpdate(ctx, out, &length, input.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                    Int32(input.count)), "EVP_EncryptUpdate")
            written = Int(length)
        }
        check(EVP_EncryptFinal_ex(ctx, out + written, &length), "EVP_EncryptFinal_ex")
        written += Int(length)
        precondition(written == input.count)
        check(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, Int32(AESGCM.tagSize), out + written),
              "EVP_CTRL_GCM_GET_TAG")
    }

    /// Decrypts and authenticates `input` (ciphertext then 16-byte tag) to `output`, which
    /// must have room for input.count - 16 bytes. On false, `output` holds unauthenticated
    /// bytes that must not be used.
    func open(nonce: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer,
              input: UnsafeRawBufferPointer, output: UnsafeMutableRawPointer) -> Bool {
        precondition(!encrypting && nonce.count == AESGCM.nonceSize && input.count >= AESGCM.tagSize)
        let ciphertextCount = input.count - AESGCM.tagSize
        startDecryption(nonce: nonce, aad: aad)
        let out = output.assumingMemoryBound(to: UInt8.self)
        let base = input.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var length: Int32 = 0
        var written = 0
        if ciphertextCount > 0 {
            check(EVP_DecryptUpdate(ctx, out, &length, base, Int32(ciphertextCount)), "EVP_DecryptUpdate")
            written = Int(length)
        }
        return finishDecryption(ctx, tag: base + ciphertextCount, output: out + written)
    }

    /// Whether some prefix of `record`, ciphertext of length L followed by a tag at L,
    /// authenticates, for L in 0..<(record.count - 16); returns the first such L. Costs a
    /// context copy and a tag check per candidate length, no quadratic decryption.
    func authenticatingPrefix(nonce: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer,
                              record: UnsafeRawBufferPointer) -> Int? {
        precondition(!encrypting)
        guard record.count > AESGCM.tagSize else { return nil }
        if scratch == nil {
            guard let fresh = EVP_CIPHER_CTX_new() else { opensslFailure("EVP_CIPHER_CTX_new") }
            scratch = fresh
        }
        let copy = scratch!
        startDecryption(nonce: nonce, aad: aad)
        let base = record.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var sink = [UInt8](repeating: 0, count: 32)
        var found: Int?
        sink.withUnsafeMutableBufferPointer { sink in
            var length: Int32 = 0
            for candidate in 0..<(record.count - AESGCM.tagSize) {
                check(EVP_CIPHER_CTX_copy(copy, ctx), "EVP_CIPHER_CTX_copy")
                if finishDecryption(copy, tag: base + candidate, output: sink.baseAddress!) {
                    found = candidate
                    return
                }
                check(EVP_DecryptUpdate(ctx, sink.baseAddress, &length, base + candidate, 1), "EVP_DecryptUpdate")
            }
        }
        return found
    }

    private func startDecryption(nonce: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer) {
        check(EVP_DecryptInit_ex(ctx, nil, nil, nil, nonce.baseAddress!.assumingMemoryBound(to: UInt8.self)),
              "EVP_DecryptInit_ex(nonce)")
        var length: Int32 = 0
        if aad.count > 0 {
            check(EVP_DecryptUpdate(ctx, nil, &length, aad.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                    Int32(aad.count)), "EVP_DecryptUpdate(aad)")
        }
    }

    private func finishDecryption(_ ctx: OpaquePointer, tag: UnsafePointer<UInt8>,
                                  output: UnsafeMutablePointer<UInt8>) -> Bool {
        check(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, Int32(AESGCM.tagSize), UnsafeMutableRawPointer(mutating: tag)),
              "EVP_CTRL_GCM_SET_TAG")
        var length: Int32 = 0
        let ok = EVP_DecryptFinal_ex(ctx, output, &length) > 0
        if !ok { ERR_clear_error() }
        return ok
    }

    /// One-shot seal of key material (a wrapped data key): ciphertext || tag.
    static func seal(key: SecretBytes, nonce: [UInt8], aad: [UInt8], plaintext: SecretBytes) -> [UInt8] {
        let gcm = AESGCM(key: key, encrypting: true)
        return [UInt8](unsafeUninitializedCapacity: plaintext.count + tagSize) { out, count in
            nonce.withUnsafeBytes { n in
                aad.withUnsafeBytes { a in
                    plaintext.withUnsafeBytes { p in
                        gcm.seal(nonce: n, aad: a, input: p, output: UnsafeMutableRawPointer(out.baseAddress!))
                    }
                }
            }
            count = plaintext.count + tagSize
        }
    }

    /// One-shot open of ciphertext || tag into key material; nil if it does not authenticate
    /// (then what was decrypted is wiped with the rest).
    static func open(key: SecretBytes, nonce: [UInt8], aad: [UInt8], sealed: [UInt8]) -> SecretBytes? {
        guard sealed.count > tagSize else { return nil }
        let gcm = AESGCM(key: key, encrypting: false)
        var ok = false
        let plaintext = SecretBytes(count: sealed.count - tagSize) { out in
            ok = nonce.withUnsafeBytes { n in
                aad.withUnsafeBytes { a in
                    sealed.withUnsafeBytes { s in gcm.open(nonce: n, aad: a, input: s, output: out.baseAddress!) }
                }
            }
        }
        return ok ? plaintext : nil
    }
}

/// Compares in time independent of where the bytes differ.
public func constantTimeEqual(_ a: [UInt8], _ b: some Collection<UInt8>) -> Bool {
    let b = Array(b)
    guard a.count == b.count else { return false }
    return a.withUnsafeBytes { x in b.withUnsafeBytes { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, a.count) == 0 } }
}
