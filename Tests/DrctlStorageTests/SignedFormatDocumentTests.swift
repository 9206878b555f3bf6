import Foundation
import Testing
import DrctlCrypto
@testable import DrctlStorage

/// docs/FORMAT.md's version 2 record, lock and prune record examples are what drctl writes,
/// byte for byte, signed with the version 2 test vectors' key ("Version 2 test vectors":
/// secret key bytes `01 … 20`, repository id `00112233445566778899aabbccddeeff`), and their
/// signatures verify for the key they lie at.
@Suite struct SignedFormatDocumentTests {
    static let repositoryID = "00112233445566778899aabbccddeeff"

    static func documents() throws -> SignedDocuments {
        let key = SigningKey(derivedFrom: try SecretKey(rawBytes: Array(0x01...0x20)))
        return SignedDocuments(identity: RepositoryIdentity(repositoryID: repositoryID, versionOneBefore: nil),
                               signingKey: .success(key), writers: .success([key.writerKey]))
    }

    /// Seals `document` as drctl does, compares it with `text` and checks its signature.
    func expectSigned<D: SignableDocument & Codable>(_ document: D, as text: String, kind: DocumentKind, target: String, id: String,
                                                     sourceLocation: SourceLocation = #_sourceLocation) throws {
        let documents = try Self.documents()
        let stored = String(decoding: try documents.stored(document, kind: kind, target: target, id: id), as: UTF8.self)
        #expect(stored == text, "FORMAT.md should show exactly what drctl writes:\n\(stored)", sourceLocation: sourceLocation)
        let signed = try ManifestCoding.decoder.decode(D.self, from: Data(text.utf8))
        #expect(signed.version == 2 && signed.authentication?.mac == nil, sourceLocation: sourceLocation)
        #expect(documents.failure(of: signed, stored: Array(text.utf8), kind: kind, target: target, id: id, writtenAt: Date()) == nil,
                sourceLocation: sourceLocation)
        let moved = documents.failure(of: signed, stored: Array(text.utf8), kind: kind, target: "other", id: id, writtenAt: Date())
        #expect(moved.map { "\($0)" }?.hasPrefix("tampered") == true, sourceLocation: sourceLocation)
    }

    @Test func signedFailureRecordExample() throws {
        let unsigned = try ManifestCoding.decoder.decode(FailureRecord.self, from: Data(FormatDocumentTests().example(after: "### Failure record").utf8))
        let text = try FormatDocumentTests().example(after: "### Signed records (version 2)")
        try expectSigned(unsigned, as: text, kind: .failureRecord, target: unsigned.target, id: unsigned.runID)
    }

    @Test func signedLockExample() throws {
        let unsigned = try ManifestCoding.decoder.decode(LockRecord.self, from: Data(FormatDocumentTests().example(after: "## Lock").utf8))
        let text = try FormatDocumentTests().example(after: "### Signed generations (version 2)")
        try expectSigned(unsigned, as: text, kind: .lock, target: unsigned.target, id: RepositoryLayout.lockID(generation: unsigned.generation))
        #expect(RepositoryLayout.lockID(generation: unsigned.generation) == "000000000007")
    }

    @Test func pruneRecordExample() throws {
        let text = try FormatDocumentTests().example(after: "### Prune record")
        let record = try ManifestCoding.decoder.decode(PruneRecord.self, from: Data(text.utf8))
        #expect(RepositoryLayout.recordKey(record) == "records/main-db/prunes/20261123T040000.118Z-5d0c7e.json")
        var unsigned = record
        unsigned.authentication = nil
        try expectSigned(unsigned, as: text, kind: .pruneRecord, target: record.target, id: record.runID)
    }
}
