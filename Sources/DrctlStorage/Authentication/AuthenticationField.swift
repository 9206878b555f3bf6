/// The `"authentication"` member of a version 2 document (docs/FORMAT.md, "Authenticating a
/// document's exact bytes"): its MAC (manifests only), its writer's signature and the writer's
/// signer id. Readers take the values from the stored bytes (`AuthenticatedBytes`), never from
/// this decoded copy; it is decoded only so that a document without it can be told apart.
public struct AuthenticationField: Codable, Sendable, Equatable {
    public var mac: String?
    public var signature: String
    public var signer: String

    /// What a writer emits before it computes the values: zeros of the values' lengths, which
    /// it then overwrites in place (`DocumentSeal.sealed`).
    public static func placeholder(signer: String, withMAC: Bool) -> AuthenticationField {
        AuthenticationField(mac: withMAC ? String(repeating: "0", count: 64) : nil,
                            signature: String(repeating: "0", count: 128), signer: signer)
    }
}
