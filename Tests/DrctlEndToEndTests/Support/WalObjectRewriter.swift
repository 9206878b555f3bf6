import DrctlCrypto
import DrctlPipeline
import DrctlStorage
import Foundation
import Testing

/// Rewrites a stored WAL object's body as a writer holding the sandbox's secret key could: the
/// data key is unwrapped from its header, the new body compressed by drctl's own zstd compressor
/// and sealed with that key, and the header (its `stored_size` the new body's) signed again with
/// the signing key derived from the secret key. So every check that needs no key passes: what
/// is left to refuse it is the body's form itself.
enum WalObjectRewriter {
    /// Replaces the body of the object `key` in the region directory `region` with `frames`: each
    /// compressed as a zstd frame of its own (recording its size), the frames one after the other.
    static func rewrite(_ key: String, region: String, keyFile: String, frames: [[UInt8]]) throws {
        let path = "\(region)/\(key)"
        let stored = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let length = try WalObjectFraming.headerLength(prefix: Array(stored.prefix(WalObjectFraming.prefixSize)))
        var header = try ManifestCoding.decoder.decode(WalObjectHeader.self,
                                                       from: Data(stored[WalObjectFraming.prefixSize..<WalObjectFraming.prefixSize + length]))
        let secret = try SecretKey.load(path: keyFile)
        let repositoryID = try ManifestRewriter.repositoryID(of: region) ?? ""
        let file = try #require(WalFileName(header.file))
        let system = try #require(UInt64(header.systemIdentifier))
        let documentID = WalLayout.documentID(systemIdentifier: system, file: file)
        let dataKey = try KeyWrap.unwrap(header.dataKey, with: secret,
                                         binding: .versionTwo(repositoryID: repositoryID, target: header.target, backupID: documentID))

        let sealer = StreamSealer(dataKey: dataKey, context: StreamContext(backupID: header.systemIdentifier, objectName: header.file))
        var body: [UInt8] = []
        for frame in frames {
            let zstd = try ZstdCompressor(level: 1, threads: 1, contentSize: frame.count)
            let emit: ([UInt8]) -> Void = { compressed in body += compressed.withUnsafeBytes { sealer.update($0) } }
            try zstd.process(frame, emit: emit)
            try zstd.finish(emit: emit)
        }
        body += sealer.finish()

        header.storedSize = UInt64(body.count)
        header.authentication = nil
        let documents = SignedDocuments(identity: RepositoryIdentity(repositoryID: repositoryID, versionOneBefore: nil),
                                        signingKey: .success(SigningKey(derivedFrom: secret)), writers: .failure(SignedDocuments.ReadOnly()))
        let head = WalObjectFraming.head(header: try documents.stored(header, kind: .wal, target: header.target, id: documentID))
        try FileManager.default.removeItem(atPath: path)   // objects are write-once: replaced as an operator would not
        try Data(head + body).write(to: URL(fileURLWithPath: path))
    }
}

