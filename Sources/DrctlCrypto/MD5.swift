import COpenSSL

/// MD5 of `bytes`: only for protocols that demand it (S3's Content-MD5 on DeleteObjects), never
/// for integrity of our own data (that is SHA-256 and AEAD).
public func md5(_ bytes: [UInt8]) -> [UInt8] {
    var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
    var length: UInt32 = 0
    let ok = bytes.withUnsafeBytes { input in
        EVP_Digest(input.baseAddress, input.count, &digest, &length, EVP_md5(), nil)
    }
    precondition(ok == 1, "EVP_Digest(MD5) failed")
    return Array(digest.prefix(Int(length)))
}
