import DrctlCrypto
import DrctlPolicy

extension EncryptionScheme {
    /// The wrap scheme the policy's name stands for.
    var wrapScheme: WrapScheme {
        switch self {
        case .symmetric: return .symmetric
        case .x25519: return .x25519
        }
    }

    /// The policy's name of a wrap scheme, for messages.
    init(_ scheme: WrapScheme) {
        switch scheme {
        case .symmetric: self = .symmetric
        case .x25519: self = .x25519
        }
    }
}
