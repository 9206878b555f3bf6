import DrctlCrypto
import Foundation

/// A request body's SHA-256, computed once for both places S3 takes it: the signature's
/// `x-amz-content-sha256` (hex) and the additional checksum `x-amz-checksum-sha256` (base64),
/// which AWS checks on arrival and keeps with the object (a multipart upload's as the composite
/// of its parts', listed in CompleteMultipartUpload).
struct S3BodyDigest: Sendable {
    let hex: String
    let base64: String

    init(_ body: [UInt8]) {
        let digest = sha256(body)
        hex = DrctlCrypto.hex(digest)
        base64 = Data(digest).base64EncodedString()
    }

    /// The additional-checksum headers. `x-amz-sdk-checksum-algorithm` is the header SDKs send
    /// with the checksum (moto keeps a PutObject's checksum only with it).
    var headers: [(String, String)] {
        [("x-amz-sdk-checksum-algorithm", "SHA256"), ("x-amz-checksum-sha256", base64)]
    }
}
