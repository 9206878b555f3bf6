import DrctlCrypto
import DrctlSources
import DrctlTestSupport
import Foundation
import Testing
@testable import DrctlJobs

/// `TarExtractor` and `BackupManifestCheck` fed a real PostgreSQL 15 BASE_BACKUP (a tablespace's
/// archive, base.tar, backup_manifest, as drctl stores them), and archives GNU tar wrote for
/// what the server never sends; real `tar` and `pg_verifybackup` judge the extracted files.
@Suite struct BaseBackupExtractionTests {
    /// One real base backup for every test (taken once: a cluster start and a checkpoint).
    struct Backup: Sendable {
        let oid: String
        let archives: [String: [UInt8]]
        var base: [UInt8] { archives["base.tar"]! }
        var manifest: [UInt8] { archives["backup_manifest"]! }
        var tablespace: [UInt8] { archives["\(oid).tar"]! }
    }

    static let taken: Result<Backup, Error> = Result {
        let (cluster, _) = try PostgresCluster.startWithTablespace()
        defer { cluster.stop() }
        // A file of several pieces, and one of an odd size.
        try cluster.exec(["CREATE TABLE big AS SELECT g, md5(g::text) AS pad FROM generate_series(1, 30000) g"])
        let oid = try cluster.sql("SELECT oid FROM pg_tablespace WHERE spcname = 'ts1'")
        let session = try BaseBackupSession(cluster.superuser())
        try session.begin(label: "drctl extraction test", fastCheckpoint: true)
        var archives: [String: [UInt8]] = [:]
        for name in session.archiveNames { archives[name] = try readAll(session.archive(named: name)) }
        _ = try session.end()
        return Backup(oid: oid, archives: archives)
    }

    /// A scratch directory (removed with the value).
    final class Scratch {
        let path = NSTemporaryDirectory() + "drctl-extract-\(UUID().uuidString)"
        init() throws {
            try FileManager.default.createDirectory(atPath: "\(path)/data", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: "\(path)/space", withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
        var data: String { "\(path)/data" }
        var space: String { "\(path)/space" }
    }

    /// Extracts `bytes` into `root` in pieces of `piece` bytes (not a multiple of 512: headers
    /// and files straddle the pieces), as the pipeline would.
    @discardableResult
    static func extract(_ bytes: [UInt8], into root: String, archive: String = "base.tar", prefix: String = "",
                        files: RestoredFiles = RestoredFiles(), piece: Int = 70_001) throws -> RestoredFiles {
        let extractor = TarExtractor(root: root, archive: archive, manifestPrefix: prefix, into: files)
        do {
            for start in stride(from: 0, to: bytes.count, by: piece) {
                try bytes[start..<min(start + piece, bytes.count)].withUnsafeBytes { try extractor.write($0) }
            }
            try extractor.finish()
        } catch {
            extractor.abort()
            throw error
        }
        return files
    }

    /// Both archives of the backup extracted; their files.
    static func extractBackup(_ backup: Backup, base: [UInt8]? = nil, into scratch: Scratch) throws -> RestoredFiles {
        let files = RestoredFiles()
        try extract(backup.tablespace, into: scratch.space, archive: "\(backup.oid).tar", prefix: "pg_tblspc/\(backup.oid)/", files: files)
        try extract(base ?? backup.base, into: scratch.data, files: files)
        return files
    }

    static func header(of name: String, in tar: [UInt8]) throws -> Int {
        try #require(TarMembers.header(of: name, in: tar))
    }

    /// The archive without its two end-of-archive blocks, then `more`, then those blocks.
    static func appending(_ more: [UInt8], to tar: [UInt8]) -> [UInt8] {
        Array(tar.dropLast(1024)) + more + [UInt8](repeating: 0, count: 1024)
    }

    /// An archive GNU tar writes of `members` (relative names, run in `directory`), without
    /// its end-of-archive blocks; `options` before the names (e.g. --format).
    static func gnuTar(in directory: String, _ members: [String], options: [String] = ["--format=ustar"]) throws -> [UInt8] {
        let file = "\(directory)/.archive.tar"
        let written = try ChildProcess.run(["tar", "-c", "-f", file, "-C", directory] + options + members, environment: .minimal())
        try #require(written.exit.succeeded, "\(written.stderr)")
        var archive = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        try FileManager.default.removeItem(atPath: file)
        while archive.count >= 512 && archive.suffix(512).allSatisfy({ $0 == 0 }) { archive.removeLast(512) }
        return archive
    }

    // MARK: The real backup

    @Test func aRealBaseBackupExtractsAsTarWouldAndMatchesItsManifest() throws {
        let backup = try Self.taken.get()
        let scratch = try Scratch()
        let files = try Self.extractBackup(backup, into: scratch)
        let check = try BackupManifestCheck(manifest: backup.manifest)
        #expect(check.checksumsComputed)
        #expect(check.problems(in: files) == [])
        #expect(files.byPath.keys.contains { $0.description.hasPrefix("pg_tblspc/\(backup.oid)/PG_15_") })

        // GNU tar extracts the same bytes into the same tree: names, kinds, modes, contents.
        let byTar = "\(scratch.path)/by-tar"
        try FileManager.default.createDirectory(atPath: byTar, withIntermediateDirectories: true)
        let tarFile = "\(scratch.path)/base.tar"
        try Data(backup.base).write(to: URL(fileURLWithPath: tarFile))
        let untar = try ChildProcess.run(["tar", "-x", "-f", tarFile, "-C", byTar, "--no-same-owner"], environment: .minimal())
        try #require(untar.exit.succeeded, "\(untar.stderr)")
        let diff = try ChildProcess.run(["diff", "-r", "--no-dereference", byTar, scratch.data], environment: .minimal())
        #expect(diff.exit.succeeded, "\(diff.stdout)")
        let modes = { (root: String) throws -> String in
            try ChildProcess.run(["sh", "-c", "cd \"$1\" && find . -printf '%p %y %m\\n' | sort", "-", root], environment: .minimal()).stdout
        }
        #expect(try modes(byTar) == modes(scratch.data))

        // PostgreSQL's own check agrees: the manifest beside the files, the tablespace linked.
        try Data(backup.manifest).write(to: URL(fileURLWithPath: "\(scratch.data)/backup_manifest"))
        try FileManager.default.createDirectory(atPath: "\(scratch.data)/pg_tblspc", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: "\(scratch.data)/pg_tblspc/\(backup.oid)", withDestinationPath: scratch.space)
        let verified = try ChildProcess.run(["\(PostgresCluster.binDir)/pg_verifybackup", "--no-parse-wal", "--quiet", scratch.data],
                                            environment: .minimal())
        #expect(verified.exit.succeeded, "\(verified.stdout)\(verified.stderr)")
    }

    @Test func oneFlippedByteIsNamedAsAChecksumMismatch() throws {
        let backup = try Self.taken.get()
        let scratch = try Scratch()
        var base = backup.base
        base[try Self.header(of: "PG_VERSION", in: base) + 512] ^= 0x01
        let files = try Self.extractBackup(backup, base: base, into: scratch)
        let check = try BackupManifestCheck(manifest: backup.manifest)
        #expect(check.problems(in: files) == ["checksum mismatch for file \"PG_VERSION\""])
        let error = #expect(throws: PhysicalRestoreError.self) { try check.verify(files) }
        #expect(error?.description.contains("checksum mismatch for file \"PG_VERSION\"") == true, "\(String(describing: error))")
    }

    @Test func aFileMissingFromTheArchivesIsNamed() throws {
        let backup = try Self.taken.get()
        let scratch = try Scratch()
        var base = backup.base
        let at = try Self.header(of: "PG_VERSION", in: base)
        base.removeSubrange(at..<(at + 1024))   // its header and its one block of data
        let files = try Self.extractBackup(backup, base: base, into: scratch)
        #expect(try BackupManifestCheck(manifest: backup.manifest).problems(in: files)
            == ["\"PG_VERSION\" is present in the manifest but not in the backup's archives"])
    }

    @Test func aFileTheManifestDoesNotListIsNamedExceptWherePgVerifybackupLooksAway() throws {
        let backup = try Self.taken.get()
        let scratch = try Scratch()
        let extra = "\(scratch.path)/extra"
        try FileManager.default.createDirectory(atPath: "\(extra)/pg_wal", withIntermediateDirectories: true)
        for name in ["stray", "pg_wal/000000010000000000000009", "standby.signal"] {
            try Data("x".utf8).write(to: URL(fileURLWithPath: "\(extra)/\(name)"))
        }
        let base = Self.appending(try Self.gnuTar(in: extra, ["stray", "pg_wal/000000010000000000000009", "standby.signal"]), to: backup.base)
        let files = try Self.extractBackup(backup, base: base, into: scratch)
        #expect(try BackupManifestCheck(manifest: backup.manifest).problems(in: files)
            == ["\"stray\" is present in the backup's archives but not in the manifest"])
    }

    @Test func aManifestWhoseBytesItsChecksumDoesNotCoverIsRefused() throws {
        let backup = try Self.taken.get()
        var manifest = backup.manifest
        let text = String(decoding: manifest, as: UTF8.self)
        let at = try #require(text.range(of: "\"Path\": \"PG_VERSION\", \"Size\": ")).upperBound
        manifest[text.utf8.distance(from: text.utf8.startIndex, to: at)] = UInt8(ascii: "4")   // "Size": 3 → 4
        let error = #expect(throws: PhysicalRestoreError.self) { try BackupManifestCheck(manifest: manifest) }
        #expect(error?.description.contains("manifest checksum mismatch") == true, "\(String(describing: error))")
    }

    /// The real manifest with PG_VERSION's `"Path"` replaced by `"Encoded-Path": hex` (what
    /// PostgreSQL writes for a name that is not UTF-8) and its Manifest-Checksum made again.
    static func manifest(_ manifest: [UInt8], encodingPathAs hex: String) throws -> [UInt8] {
        let text = String(decoding: manifest, as: UTF8.self).replacingOccurrences(
            of: "\"Path\": \"PG_VERSION\"", with: "\"Encoded-Path\": \"\(hex)\"")
        let body = String(try #require(text.range(of: "\"Manifest-Checksum\"").map { text[..<$0.lowerBound] }))
        let digest = SHA256Digest()
        Array(body.utf8).withUnsafeBytes { digest.update($0) }
        return Array((body + "\"Manifest-Checksum\": \"\(digest.finalizeHex())\"}\n").utf8)
    }

    @Test func anEncodedPathIsReadAsTheNameItEncodesAndNonHexIsRefused() throws {
        let backup = try Self.taken.get()
        let scratch = try Scratch()
        let files = try Self.extractBackup(backup, into: scratch)
        let encoded = try Self.manifest(backup.manifest, encodingPathAs: "50475f56455253494f4e")   // "PG_VERSION"
        #expect(String(decoding: encoded, as: UTF8.self).contains("Encoded-Path"))
        #expect(try BackupManifestCheck(manifest: encoded).problems(in: files) == [])
        for notHex in ["50475f56455253494f4", "+0475f56455253494f4e", "zz"] {
            let error = #expect(throws: PhysicalRestoreError.self) {
                try BackupManifestCheck(manifest: Self.manifest(backup.manifest, encodingPathAs: notHex))
            }
            #expect(error?.description.contains("without a path") == true, "\(notHex): \(String(describing: error))")
        }
    }

    /// The archive with member `name`'s name field set to `bytes` (at most 99) and its header's
    /// checksum made again: what the server sends for a file of that name.
    static func renaming(_ name: String, to bytes: [UInt8], in tar: [UInt8]) throws -> [UInt8] {
        var tar = tar
        let at = try Self.header(of: name, in: tar)
        tar.replaceSubrange(at..<(at + 100), with: bytes + [UInt8](repeating: 0, count: 100 - bytes.count))
        tar.replaceSubrange((at + 148)..<(at + 156), with: [UInt8](repeating: 0x20, count: 8))
        let sum = tar[at..<(at + 512)].reduce(0) { $0 + Int($1) }
        tar.replaceSubrange((at + 148)..<(at + 156), with: Array(String(format: "%06o", sum).utf8) + [0, 0x20])
        return tar
    }

    /// A file whose name is not UTF-8 is listed by `Encoded-Path`: the check compares the
    /// bytes, so a name that differs from the listed one in a byte that is not UTF-8 is named
    /// as missing and as unlisted, not taken for the same name.
    @Test func aNameThatIsNotUTF8IsComparedWithItsEncodedPathByteForByte() throws {
        let backup = try Self.taken.get()
        let renamed = ByteNamedFiles.bytes("PG_VERSION", [0xff, 0xfe])
        let base = try Self.renaming("PG_VERSION", to: renamed, in: backup.base)
        let scratch = try Scratch()
        let files = try Self.extractBackup(backup, base: base, into: scratch)
        #expect(ByteNamedFiles.read(renamed, in: scratch.data) == ByteNamedFiles.bytes("15\n"))
        #expect(ByteNamedFiles.names(in: scratch.data).filter { String(validating: $0, as: UTF8.self) == nil } == [renamed])
        let listed = try Self.manifest(backup.manifest, encodingPathAs: "50475f56455253494f4efffe")   // "PG_VERSION\xff\xfe"
        #expect(try BackupManifestCheck(manifest: listed).problems(in: files) == [])
        let other = try Self.manifest(backup.manifest, encodingPathAs: "50475f56455253494f4efeff")   // "PG_VERSION\xfe\xff"
        #expect(try BackupManifestCheck(manifest: other).problems(in: files) == [
            "\"PG_VERSION\\xfe\\xff\" is present in the manifest but not in the backup's archives",
            "\"PG_VERSION\\xff\\xfe\" is present in the backup's archives but not in the manifest",
        ])
    }

    @Test func anAbortedExtractionLeavesTheDirectoryEmptyForTheNextCopy() throws {
        let backup = try Self.taken.get()
        let scratch = try Scratch()
        let files = RestoredFiles()
        let extractor = TarExtractor(root: scratch.data, archive: "base.tar", manifestPrefix: "", into: files)
        try backup.base.prefix(backup.base.count / 2).withUnsafeBytes { try extractor.write($0) }
        extractor.abort()
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.data) == [])
        #expect(files.byPath.isEmpty)
        try Self.extract(backup.base, into: scratch.data, files: files)
        #expect(files.byPath["PG_VERSION"] != nil)
    }

    // MARK: What the server never sends

    /// `tar` (members, no end blocks) extracted into the scratch data directory: the refusal's message.
    static func refusal(of tar: [UInt8], scratch: Scratch) -> String? {
        let error = #expect(throws: PhysicalRestoreError.self) { try Self.extract(tar + [UInt8](repeating: 0, count: 1024), into: scratch.data) }
        return error?.description
    }

    @Test func namesThatLeaveTheDirectoryAreRefusedAndNothingIsWrittenOutsideIt() throws {
        let scratch = try Scratch()
        let work = "\(scratch.path)/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try Data("planted".utf8).write(to: URL(fileURLWithPath: "\(scratch.path)/escape"))

        let dotdot = try Self.gnuTar(in: work, ["../escape"], options: ["--format=ustar", "--absolute-names"])
        try FileManager.default.removeItem(atPath: "\(scratch.path)/escape")
        let message = Self.refusal(of: dotdot, scratch: scratch)
        #expect(message?.contains("'../escape'") == true && message?.contains("'..'") == true, "\(message ?? "")")
        #expect(!FileManager.default.fileExists(atPath: "\(scratch.path)/escape"))

        try Data("planted".utf8).write(to: URL(fileURLWithPath: "\(scratch.path)/absolute"))
        let absolute = try Self.gnuTar(in: work, ["\(scratch.path)/absolute"], options: ["--format=ustar", "--absolute-names"])
        try FileManager.default.removeItem(atPath: "\(scratch.path)/absolute")
        let refused = Self.refusal(of: absolute, scratch: scratch)
        #expect(refused?.contains("absolute name") == true, "\(refused ?? "")")
        #expect(!FileManager.default.fileExists(atPath: "\(scratch.path)/absolute"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.data) == [])
    }

    @Test func nothingIsWrittenThroughASymbolicLinkTheArchiveMade() throws {
        let scratch = try Scratch()
        let outside = "\(scratch.path)/outside"
        let first = "\(scratch.path)/first", second = "\(scratch.path)/second"
        for directory in [outside, first, "\(second)/link"] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        try FileManager.default.createSymbolicLink(atPath: "\(first)/link", withDestinationPath: outside)
        try Data("through".utf8).write(to: URL(fileURLWithPath: "\(second)/link/file"))
        let tar = try Self.gnuTar(in: first, ["link"]) + Self.gnuTar(in: second, ["link/file"])
        let message = Self.refusal(of: tar, scratch: scratch)
        #expect(message?.contains("symbolic link 'link'") == true, "\(message ?? "")")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside) == [])
    }

    /// Names and a link target that are not UTF-8, as GNU tar writes them: each written as its
    /// bytes; two names that differ only in such bytes are two names, so a directory beside a
    /// symbolic link is not taken for it, while a name below the link itself is still refused
    /// (its bytes escaped in the message).
    @Test func namesAndLinkTargetsThatAreNotUTF8AreWrittenAsTheirBytes() throws {
        let scratch = try Scratch()
        let (work, other) = ("\(scratch.path)/work", "\(scratch.path)/other")
        let tree = ByteNamedFiles.bytes("tree")
        for directory in [work, other] {
            try FileManager.default.createDirectory(atPath: "\(directory)/tree", withIntermediateDirectories: true)
        }
        let link = tree + ByteNamedFiles.bytes("/l", [0xff]), folder = tree + ByteNamedFiles.bytes("/l", [0xfe])
        let outside = ByteNamedFiles.bytes("outside-", [0xfe, 0x80])
        try ByteNamedFiles.makeDirectory(outside, in: scratch.path)
        let target = ByteNamedFiles.bytes(scratch.path + "/") + outside
        try ByteNamedFiles.makeSymbolicLink(link, to: target, in: work)
        try ByteNamedFiles.makeDirectory(folder, in: work)
        try ByteNamedFiles.write(ByteNamedFiles.bytes("x"), to: folder + ByteNamedFiles.bytes("/f", [0xc3]), in: work)
        try Self.extract(try Self.gnuTar(in: work, ["tree"]) + [UInt8](repeating: 0, count: 1024), into: scratch.data)
        #expect(ByteNamedFiles.names(in: scratch.data, tree) == [Array(folder.dropFirst(5)), Array(link.dropFirst(5))])
        #expect(ByteNamedFiles.linkTarget(link, in: scratch.data) == target)
        #expect(ByteNamedFiles.read(folder + ByteNamedFiles.bytes("/f", [0xc3]), in: scratch.data) == ByteNamedFiles.bytes("x"))

        // Below the link itself (a file GNU tar names "tree/lX/file", renamed): refused, nothing written through it.
        try FileManager.default.createDirectory(atPath: "\(other)/tree/lX", withIntermediateDirectories: true)
        try Data("through".utf8).write(to: URL(fileURLWithPath: "\(other)/tree/lX/file"))
        let through = try Self.renaming("tree/lX/file", to: link + ByteNamedFiles.bytes("/file"),
                                        in: try Self.gnuTar(in: other, ["tree/lX/file"]))
        let again = try Scratch()
        let message = Self.refusal(of: try Self.gnuTar(in: work, ["tree"]) + through, scratch: again)
        #expect(message?.contains("symbolic link 'tree/l\\xff'") == true && message?.contains("member 'tree/l\\xff/file'") == true,
                "\(message ?? "")")
        #expect(ByteNamedFiles.names(in: scratch.path, outside) == [])
    }

    @Test func paxAndGNULongNameHeadersAndHardLinksAreRefusedByKind() throws {
        let scratch = try Scratch()
        let work = "\(scratch.path)/work"
        let long = String(repeating: "n", count: 120)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: "\(work)/\(long)"))
        try Data("x".utf8).write(to: URL(fileURLWithPath: "\(work)/file"))
        try FileManager.default.linkItem(atPath: "\(work)/file", toPath: "\(work)/hard")
        let gnu = Self.refusal(of: try Self.gnuTar(in: work, [long], options: ["--format=gnu"]), scratch: scratch)
        #expect(gnu?.contains("GNU long names") == true, "\(gnu ?? "")")
        let pax = Self.refusal(of: try Self.gnuTar(in: work, [long], options: ["--format=pax"]), scratch: scratch)
        #expect(pax?.contains("pax extended headers") == true, "\(pax ?? "")")
        let hard = Self.refusal(of: try Self.gnuTar(in: work, ["file", "hard"]), scratch: scratch)
        #expect(hard?.contains("member 'hard'") == true && hard?.contains("hard links") == true, "\(hard ?? "")")
    }
}
