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

/// What the digests add to requests: nothing with `additionalChecksums` off (endpoints that refuse
/// the headers), the checksum of each body and the upload's algorithm otherwise.
extension S3ObjectStore {
    func checksumHeaders(_ digest: S3BodyDigest) -> [(String, String)] {
        additionalChecksums ? digest.headers : []
    }

    /// CreateMultipartUpload's: the parts' checksums make a composite SHA-256 of the object.
    var uploadChecksumHeaders: [(String, String)] {
        additionalChecksums ? [("x-amz-checksum-algorithm", "SHA256")] : []
    }
}
