import Foundation
import Testing
@testable import DrctlStorage

/// DeleteObjects against moto: batches, a prefix, missing keys.
@Suite(.serialized) final class S3BatchDeleteTests {
    let moto: MotoServer
    let bucket = "drctl-batch-delete"

    init() throws { moto = try MotoServer.holding(bucket: bucket) }

    @Test func manyKeysGoInBatchesAndMissingOnesAreFine() throws {
        let store = try moto.store(bucket: bucket, prefix: "repo")
        let keys = (0..<7).map { "data/t/b/object-\($0) & <x>" }
        for key in keys { try store.put(key, bytes: Array(key.utf8)) }
        try store.put("data/t/keep", bytes: [1])
        try store.delete(keys: keys + ["data/t/never-written"], batchSize: 3)
        #expect(try store.list(prefix: "data/").map(\.key) == ["data/t/keep"])
        // Nothing outside the prefix was touched, and an empty list sends nothing.
        try store.delete(keys: [])
        #expect(try moto.store(bucket: bucket).list(prefix: "").map(\.key) == ["repo/data/t/keep"])
    }

    @Test func aMissingBucketIsNamed() throws {
        let store = try moto.store(bucket: "no-such-bucket-here")
        let error = #expect(throws: StorageError.self) { try store.delete(keys: ["a", "b"]) }
        #expect("\(error!)".contains("no-such-bucket-here"), "\(error!)")
    }

    @Test func invalidKeysAreRefusedBeforeAnyRequest() throws {
        let store = try moto.store(bucket: bucket)
        try store.put("valid", bytes: [1])
        #expect(throws: StorageError.invalidKey(".hidden")) { try store.delete(keys: ["valid", ".hidden"]) }
        #expect(try store.stat("valid") != nil)
    }
}
