import COpenSSL

/// Ed25519 signatures (RFC 8032) through OpenSSL: the writer signatures of repository format
/// version 2 (docs/FORMAT.md, "Version 2"), which let a host without the secret key tell what
/// a writer made from what someone planted.
public enum Ed25519 {
    public static let seedSize = 32
    public static let publicKeySize = 32
    public static let signatureSize = 64

    private static func privateKey(_ seed: SecretBytes) -> OpaquePointer {
        precondition(seed.count == seedSize, "an Ed25519 seed is 32 bytes")
        let key = seed.withUnsafeBytes {
            EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, $0.baseAddress?.assumingMemoryBound(to: UInt8.self), seedSize)
        }
        guard let key else { opensslFailure("EVP_PKEY_new_raw_private_key(ED25519)") }
        return key
    }

    /// The public key of a 32-byte seed (the RFC's "secret key"), held in wiped storage.
    public static func publicKey(seed: SecretBytes) -> [UInt8] {
        let key = privateKey(seed)
        defer { EVP_PKEY_free(key) }
        var length = publicKeySize
        var out = [UInt8](repeating: 0, count: publicKeySize)
        check(EVP_PKEY_get_raw_public_key(key, &out, &length), "EVP_PKEY_get_raw_public_key")
        return out
    }

    /// The 64-byte signature of `message` (deterministic: the same seed and message give the
    /// same signature).
    public static func sign(_ message: [UInt8], seed: SecretBytes) -> [UInt8] {
        let key = privateKey(seed)
        defer { EVP_PKEY_free(key) }
        guard let context = EVP_MD_CTX_new() else { opensslFailure("EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(context) }
        check(EVP_DigestSignInit(context, nil, nil, nil, key), "EVP_DigestSignInit")
        var length = signatureSize
        var signature = [UInt8](repeating: 0, count: signatureSize)
        let result = message.withUnsafeBufferPointer {
            EVP_DigestSign(context, &signature, &length, $0.baseAddress, $0.count)
        }
        check(result, "EVP_DigestSign")
        precondition(length == signatureSize)
        return signature
    }

    /// Whether `signature` is `publicKey`'s signature of `message`. A malformed key or
    /// signature is simply not valid.
    public static func isValid(_ signature: [UInt8], of message: [UInt8], publicKey: [UInt8]) -> Bool {
        guard signature.count == signatureSize, publicKey.count == publicKeySize else { return false }
        let key = publicKey.withUnsafeBufferPointer {
            EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, publicKeySize)
        }
        guard let key else {
            ERR_clear_error()
            return false
        }
        defer { EVP_PKEY_free(key) }
        guard let context = EVP_MD_CTX_new() else { opensslFailure("EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(context) }
        check(EVP_DigestVerifyInit(context, nil, nil, nil, key), "EVP_DigestVerifyInit")
        let result = signature.withUnsafeBufferPointer { signed in
            message.withUnsafeBufferPointer { EVP_DigestVerify(context, signed.baseAddress, signed.count, $0.baseAddress, $0.count) }
        }
        if result != 1 { ERR_clear_error() }
        return result == 1
    }
}
