import DrctlCrypto

/// Makes and checks the authentication of version 2 documents over their exact stored bytes
/// (docs/FORMAT.md, "Authenticating a document's exact bytes"): a writer encodes the document
/// with zeroed values (`AuthenticationField.placeholder`), then writes the MAC and signature
/// in place; a reader zeroes them again and checks both against what it expected.
public enum DocumentSeal {
    /// `zeroed` (an encoded document holding the placeholder) with its signature, and its MAC
    /// under `macKey` when one is given, written in place.
    public static func sealed(_ zeroed: [UInt8], at address: DocumentAddress, signingKey: SigningKey,
                              macKey: SecretBytes? = nil) throws -> [UInt8] {
        let authenticated = try AuthenticatedBytes(stored: zeroed)
        precondition(authenticated.zeroed == zeroed, "a document to seal must hold the zeroed placeholder")
        var values = ["signature": signingKey.sign(message(authenticated, at: address))]
        if let macKey {
            values["mac"] = authenticated.manifestMAC(key: macKey, repositoryID: address.repositoryID,
                                                      target: address.target, backupID: address.id)
        }
        return authenticated.storing(values)
    }

    /// The stored document's authenticated bytes once its signature is checked: signed by one
    /// of `writers` for `address`. Throws `SealFailure` naming what is wrong.
    public static func verifiedSignature(of stored: [UInt8], signer: String, at address: DocumentAddress,
                                         writers: [WriterKey]) throws -> AuthenticatedBytes {
        let authenticated: AuthenticatedBytes
        do {
            authenticated = try AuthenticatedBytes(stored: stored)
        } catch let failure as AuthenticatedBytes.Failure {
            throw SealFailure.malformed("\(failure)")
        }
        guard let signature = authenticated.signature else { throw SealFailure.malformed("it holds no signature") }
        guard let writer = writers.first(where: { $0.signerID == signer }) else {
            throw SealFailure.unknownWriter(signer)
        }
        guard writer.hasSigned(message(authenticated, at: address), signature: signature) else {
            throw SealFailure.tampered("its signature does not verify for \(address.kind.rawValue) '\(address.id)' "
                + "of target '\(address.target)' in repository \(address.repositoryID)")
        }
        return authenticated
    }

    /// Checks a manifest's MAC (readers holding the backup's data key).
    public static func verifyMAC(_ authenticated: AuthenticatedBytes, at address: DocumentAddress, dataKey: DataKey) throws {
        guard let mac = authenticated.mac else { throw SealFailure.malformed("it holds no mac") }
        let expected = authenticated.manifestMAC(key: AuthenticatedBytes.manifestMACKey(dataKey), repositoryID: address.repositoryID,
                                                 target: address.target, backupID: address.id)
        guard constantTimeEqual(Array(expected.utf8), Array(mac.utf8)) else {
            throw SealFailure.tampered("its mac does not verify with the backup's data key: its bytes were changed after it was written")
        }
    }

    private static func message(_ authenticated: AuthenticatedBytes, at address: DocumentAddress) -> [UInt8] {
        authenticated.signedMessage(kind: address.kind.rawValue, repositoryID: address.repositoryID,
                                    target: address.target, id: address.id)
    }
}

/// Why a version 2 document's authentication failed.
public enum SealFailure: Error, Equatable, CustomStringConvertible {
    /// Its MAC or signature does not verify: its bytes, or where it lies, changed after it was written.
    case tampered(String)
    /// Signed by a key the policy does not list among its writers.
    case unknownWriter(String)
    /// Its authentication is missing or not in the format's shape.
    case malformed(String)
    /// This host cannot check it (no writer key available), with the reason.
    case uncheckable(String)

    public var description: String {
        switch self {
        case .tampered(let what): return "tampered: \(what)"
        case .unknownWriter(let signer):
            return "unknown writer: signed by '\(signer)', which is not among the policy's writers (encryption.writers)"
        case .malformed(let what): return "its authentication is malformed: \(what)"
        case .uncheckable(let why): return "its writer signature cannot be checked: \(why)"
        }
    }
}
