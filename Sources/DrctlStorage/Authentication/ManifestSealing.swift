import DrctlCrypto

extension BackupManifest {
    /// Makes this manifest version 2 and returns its stored bytes (docs/FORMAT.md, "Authenticating a
    /// document's exact bytes"): encoded with the placeholder, then its MAC under the data
    /// key's manifest MAC key and its writer's signature written in place.
    public mutating func seal(repositoryID: String, signingKey: SigningKey, dataKey: DataKey) throws -> [UInt8] {
        version = 2
        authentication = .placeholder(signer: signingKey.signerID, withMAC: true)
        return try DocumentSeal.sealed(encoded(), at: address(repositoryID: repositoryID),
                                       signingKey: signingKey, macKey: AuthenticatedBytes.manifestMACKey(dataKey))
    }

    /// Where this manifest belongs in repository `repositoryID`; readers build it from the
    /// key they read, which `Repository.manifest(decoding:at:in:)` checks is the same.
    public func address(repositoryID: String) -> DocumentAddress {
        DocumentAddress(kind: .manifest, repositoryID: repositoryID, target: target, id: backupID)
    }

    /// Checks the MAC of a signed copy with its data key (restore, drill, verify: the readers
    /// that hold the secret key). A version 1 copy has none to check.
    public func checkMAC(dataKey: DataKey) throws {
        guard case .signed(let address, let bytes) = authenticity else { return }
        try DocumentSeal.verifyMAC(bytes, at: address, dataKey: dataKey)
    }
}

extension BackupManifest {
    /// What this copy's wrapped data key must be bound to: the address its signature was
    /// checked for (version 2), or the backup id alone (version 1).
    public var wrapBinding: WrapBinding {
        guard case .signed(let address, _) = authenticity else { return .versionOne(backupID: backupID) }
        return .versionTwo(repositoryID: address.repositoryID, target: address.target, backupID: address.id)
    }
}
