import Foundation
import Testing
@testable import DrctlStorage

@Suite struct LocalDirectoryStoreTests {
    let root: String
    let store: LocalDirectoryStore

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-store-\(UUID().uuidString)").path
        store = LocalDirectoryStore(root: root)
    }

    @Test func writeIsInvisibleUntilCommitAndOnlyOnce() throws {
        let writer = try store.create("data/t/x/stdout")
        try [UInt8]("hello".utf8).withUnsafeBytes { try writer.write($0) }
        #expect(try store.list(prefix: "").isEmpty)
        #expect(try store.stat("data/t/x/stdout") == nil)
        try writer.commit()
        #expect(try store.list(prefix: "data/") == [ObjectInfo(key: "data/t/x/stdout", size: 5)])
        #expect(try store.get("data/t/x/stdout") == Array("hello".utf8))

        #expect(throws: StorageError.alreadyExists(key: "data/t/x/stdout", location: root)) {
            try store.put("data/t/x/stdout", bytes: Array("other".utf8))
        }
        #expect(try store.get("data/t/x/stdout") == Array("hello".utf8))
        // No temporary file is left by the refused write.
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(root)/data/t/x") == ["stdout"])
    }

    @Test func abortLeavesNothing() throws {
        let writer = try store.create("a/b")
        try [UInt8](repeating: 1, count: 1000).withUnsafeBytes { try writer.write($0) }
        writer.abort()
        #expect(try store.list(prefix: "").isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(root)/a").isEmpty)
    }

    @Test func listFiltersByPrefixAndSorts() throws {
        for key in ["manifests/b/2.json", "manifests/a/1.json", "manifests/ab/3.json", "data/a/1/stdout"] {
            try store.put(key, bytes: [0])
        }
        #expect(try store.list(prefix: "manifests/a/").map(\.key) == ["manifests/a/1.json"])
        #expect(try store.list(prefix: "manifests/a").map(\.key) == ["manifests/a/1.json", "manifests/ab/3.json"])
        #expect(try store.list(prefix: "").count == 4)
        #expect(try LocalDirectoryStore(root: "\(root)/missing").list(prefix: "").isEmpty)
    }

    @Test func deleteRemovesEmptiedDirectories() throws {
        try store.put("data/t/id/one", bytes: [1])
        try store.put("data/t/id/two", bytes: [2])
        try store.delete("data/t/id/one")
        #expect(FileManager.default.fileExists(atPath: "\(root)/data/t/id"))
        try store.delete("data/t/id/two")
        #expect(!FileManager.default.fileExists(atPath: "\(root)/data"))
        #expect(FileManager.default.fileExists(atPath: root))
        try store.delete("data/t/id/two")   // already gone: fine
    }

    @Test func rejectsKeysThatEscapeOrHide() {
        for key in ["", "/abs", "a//b", "../x", "a/../b", ".hidden", "a/.tmp"] {
            #expect(throws: StorageError.invalidKey(key)) { _ = try store.create(key) }
        }
    }

    @Test func missingObjectIsNamed() {
        #expect(throws: StorageError.notFound(key: "nope", location: root)) { _ = try store.open("nope") }
    }

    @Test func unusableRootIsAnError() throws {
        let file = "\(root)-file"
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(throws: StorageError.self) { _ = try LocalDirectoryStore(root: file).create("a/b") }
    }
}

@Suite struct RepositoryFormatTests {
    @Test func backupIDsSortByTimeAndParseStrictly() {
        let early = BackupID(startedAt: Date(timeIntervalSince1970: 1_700_000_000.0005), suffix: "ffffff")
        let late = BackupID(startedAt: Date(timeIntervalSince1970: 1_700_000_000.0015), suffix: "000000")
        #expect(early.rawValue == "20231114T221320.000Z-ffffff")
        #expect(late.rawValue == "20231114T221320.001Z-000000")
        #expect(early < late)
        #expect(BackupID(early.rawValue) == early)
        for bad in ["", "20231114T221320.000Z", "20231114T221320.000Z-FFFFFF", "20231114T221320.000Z-fffff",
                    "../20231114T221320.000Z-ffffff", "20231314T221320.000Z-ffffff", "20231114T221320.000Z-ffffff-x",
                    "20231114T221320Z-ffffff", "20231114T221320.0a0Z-ffffff", "20231114T221320.000Z-fffffg"] {
            #expect(BackupID(bad) == nil, "\(bad)")
        }
    }

    @Test func timestampsAreRFC3339UTCWithMilliseconds() {
        let date = Date(timeIntervalSince1970: 1_700_000_000.123)
        #expect(Timestamp.format(date) == "2023-11-14T22:13:20.123Z")
        #expect(abs(Timestamp.parse("2023-11-14T22:13:20.123Z")!.timeIntervalSince1970 - 1_700_000_000.123) < 0.0005)
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1_700_000_000.9996)) == "2023-11-14T22:13:21.000Z")
        #expect(Timestamp.parse("2023-11-14T22:13:20Z")!.timeIntervalSince1970 == 1_700_000_000)
    }
}
