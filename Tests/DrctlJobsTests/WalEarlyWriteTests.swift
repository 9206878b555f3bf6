import DrctlCrypto
import DrctlStorage
import Foundation
import Synchronization
import Testing
import DrctlTestSupport
@testable import DrctlJobs

/// `wal-push`'s early write into a directory region: the body written while it is sealed, at
/// the room left for the head, the head last. The object stored must be byte for byte what the
/// ordinary write (head, then body, in order) stores; a head that does not fit its room leaves
/// nothing behind, so the ordinary write can take over.
@Suite struct WalEarlyWriteTests {
    static let key = "wal/main/7/0000000100000000/000000010000000000000001"

    /// A sandbox directory with a 3 MiB file: 1 MiB of random bytes, then zeros (zstd makes a
    /// body of about 1 MiB, sealed in more than one piece).
    static func sandbox() throws -> (root: String, file: WalFile) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("wal-early-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        var bytes = [UInt8](repeating: 0, count: 3 << 20)
        for index in 0..<(1 << 20) { bytes[index] = UInt8.random(in: 0...255) }
        try Data(bytes).write(to: URL(fileURLWithPath: "\(root)/000000010000000000000001"))
        return (root, try WalFile(path: "\(root)/000000010000000000000001"))
    }

    static func sealing(_ file: WalFile) -> WalFileSealing {
        WalFileSealing(file, level: 1, context: StreamContext(backupID: "7", objectName: "000000010000000000000001"))
    }

    /// Every file under `directory`, hidden ones (temporary files) included.
    static func files(under directory: String) -> [String] {
        (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? []).filter { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: "\(directory)/\(path)", isDirectory: &isDirectory) && !isDirectory.boolValue
        }.sorted()
    }

    @Test func aBodyWrittenBeforeItsHeadIsStoredAsTheOrdinaryWriteStoresIt() throws {
        let (root, file) = try Self.sandbox()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let early = LocalDirectoryStore(root: "\(root)/early"), ordinary = LocalDirectoryStore(root: "\(root)/ordinary")
        let head = [UInt8]("DRCTLWAL head of 1000 bytes".utf8) + [UInt8](repeating: 0x20, count: 1000 - 27)
        let sealing = Self.sealing(file)
        let write = WalEarlyWrite(writer: try early.createPositional(Self.key), bodyOffset: head.count)
        sealing.stream { piece, offset in write.write(piece, at: offset) }
        let sealed = try sealing.wait()
        let body = try #require(sealed.body)
        #expect(body.count > 1, "the body came in one piece: the test would not see pieces written in order")
        #expect(try write.finish(head: head, kept: body, size: sealed.storedSize) == nil)

        let writer = try ordinary.create(Self.key)
        try head.withUnsafeBytes { try writer.write($0) }
        for piece in body { try piece.withUnsafeBytes { try writer.write($0) } }
        try writer.commit()

        let stored = try Data(contentsOf: URL(fileURLWithPath: "\(root)/early/\(Self.key)"))
        #expect(stored == Data(head + body.joined()))
        #expect(stored == (try Data(contentsOf: URL(fileURLWithPath: "\(root)/ordinary/\(Self.key)"))))
        #expect(Self.files(under: "\(root)/early") == [Self.key], "a temporary file was left")
    }

    @Test func aHeadThatDoesNotFitItsRoomLeavesNothingBehind() throws {
        let (root, file) = try Self.sandbox()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = LocalDirectoryStore(root: "\(root)/early")
        let sealing = Self.sealing(file)
        let write = WalEarlyWrite(writer: try store.createPositional(Self.key), bodyOffset: 1000)
        sealing.stream { piece, offset in write.write(piece, at: offset) }
        let sealed = try sealing.wait()
        #expect(Self.files(under: "\(root)/early").count == 1, "the body was not written before the head")
        // The stored size had one digit more than the estimate: the head is a byte longer.
        let rest = try write.finish(head: [UInt8](repeating: 0x20, count: 1001), kept: sealed.body, size: sealed.storedSize)
        #expect(rest.map { Array($0.joined()) } == sealed.body.map { Array($0.joined()) }, "the kept body is not the one to write")
        #expect(rest != nil)
        #expect(Self.files(under: "\(root)/early").isEmpty)
        #expect(try store.stat(Self.key) == nil)
    }

    /// Where every region writes the body as it comes, no one keeps it: a head that fits
    /// commits what was written; one that does not gets the body read back from the file, byte
    /// for byte what was sealed, for the ordinary write, and the file goes.
    @Test func aBodyKeptNowhereIsCommittedOrReadBackForTheOrdinaryWrite() throws {
        let (root, file) = try Self.sandbox()
        defer { try? FileManager.default.removeItem(atPath: root) }
        for headLength in [1000, 1001] {
            let store = LocalDirectoryStore(root: "\(root)/\(headLength)")
            let sealing = Self.sealing(file)
            let write = WalEarlyWrite(writer: try store.createPositional(Self.key), bodyOffset: 1000)
            let seen = Mutex<[UInt8]>([])
            sealing.stream(retaining: false) { piece, offset in
                seen.withLock { $0 += piece }
                write.write(piece, at: offset)
            }
            let sealed = try sealing.wait()
            let body = seen.withLock { $0 }
            #expect(sealed.body == nil && sealed.storedSize == body.count && body.count > 1 << 19)
            let head = [UInt8](repeating: 0x20, count: headLength)
            let readBack = try write.finish(head: head, kept: nil, size: sealed.storedSize)
            if headLength == 1000 {
                #expect(readBack == nil)
                #expect(try Data(contentsOf: URL(fileURLWithPath: "\(root)/1000/\(Self.key)")) == Data(head + body))
            } else {
                #expect(readBack?.joined().elementsEqual(body) == true, "the body read back is not the one sealed")
                #expect(Self.files(under: "\(root)/1001").isEmpty)
            }
        }
    }

    /// A body kept nowhere whose write failed (a full disk: a 256 KiB tmpfs) cannot be written
    /// again: the write's error is the region's, and nothing is left on the disk.
    @Test func aBodyKeptNowhereThatCouldNotBeWrittenFailsWithTheWritesError() throws {
        let (root, file) = try Self.sandbox()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let full = "\(root)/full"
        try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
        try PostgresCluster.run("/bin/mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", full])   // as root
        defer { _ = try? PostgresCluster.run("/bin/umount", [full]) }
        let store = LocalDirectoryStore(root: full)
        let sealing = Self.sealing(file)
        let write = WalEarlyWrite(writer: try store.createPositional(Self.key), bodyOffset: 1000)
        sealing.stream(retaining: false) { piece, offset in write.write(piece, at: offset) }
        let sealed = try sealing.wait()
        let error = #expect(throws: StorageError.self) {
            try write.finish(head: [UInt8](repeating: 0x20, count: 1000), kept: nil, size: sealed.storedSize)
        }
        #expect("\(error.map { "\($0)" } ?? "")".contains("no space"), "\(String(describing: error))")
        #expect(Self.files(under: full).isEmpty, "the partial body was left")
    }

    @Test func theEstimateHasTheDigitsOfASegmentStoredAtSixToFiftyNinePercent() {
        let segment = 16 << 20
        let digits = String(WalEarlyWrite.estimatedStoredSize(fileSize: segment)).count
        #expect(String(segment * 6 / 100).count == digits)
        #expect(String(segment * 59 / 100).count == digits)
    }
}
