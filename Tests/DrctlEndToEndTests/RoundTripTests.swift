import Foundation
import Glibc
import Testing

/// Backup → list → verify → restore through the real binary, byte-identical.
@Suite struct RoundTripTests {
    /// Sizes around the sealed stream's 1 MiB chunk (random data barely compresses, so the
    /// stored stream has about as many chunks).
    @Test func sizesAroundTheChunkBoundary() throws {
        let sandbox = try Sandbox()
        let sizes = [0, 1, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 123]
        var targets: [(String, [String])] = []
        for size in sizes {
            let path = "\(sandbox.root)/input-\(size)"
            try Command.shell("head -c \(size) /dev/urandom > '\(path)'")
            targets.append(("size-\(size)", ["cat", path]))
        }
        try sandbox.writePolicy(targets: targets)

        let backup = try sandbox.drctl(["backup"])
        #expect(backup.status == 0, "\(backup)")
        let list = try sandbox.drctl(["list", "--json"])
        #expect(list.status == 0, "\(list)")
        let listed = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(listed.count == sizes.count)
        #expect(Set(listed.compactMap { $0["status"] as? String }) == ["complete"])

        let verify = try sandbox.drctl(["verify"])
        #expect(verify.status == 0, "\(verify)")
        #expect(verify.stdout.components(separatedBy: ": ok").count - 1 == sizes.count)

        for size in sizes {
            let out = "\(sandbox.root)/restored-\(size)"
            let restore = try sandbox.drctl(["restore", "--target", "size-\(size)", "--to", out])
            #expect(restore.status == 0, "\(restore)")
            #expect(try sandbox.sha256(out) == sandbox.sha256("\(sandbox.root)/input-\(size)"), "size \(size)")
            let raw = listed.first { $0["target"] as? String == "size-\(size)" }?["raw_size"] as? Int
            #expect(raw == size)
        }
    }

    /// A compressible, realistic stream (text) through standard output.
    @Test func restoreToStandardOutput() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("text", ["sh", "-c", "seq 1 300000"])])
        #expect(try sandbox.drctl(["backup"]).status == 0)
        let restore = try sandbox.drctl(["restore", "--target", "text", "--to", "-"])
        #expect(restore.status == 0, "\(restore)")
        #expect(restore.stdout == (try Command.shell("seq 1 300000")))
        let list = try sandbox.drctl(["list", "--json"])
        let listed = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]] ?? []
        let stored = listed.first?["stored_size"] as? Int ?? 0
        let raw = listed.first?["raw_size"] as? Int ?? 0
        #expect(stored > 0 && stored * 3 < raw, "text should compress: \(stored) of \(raw)")
    }

    /// 2 GiB of incompressible data: 2048 sealed chunks, byte-identical after restore.
    @Test func twoGiB() throws {
        let sandbox = try Sandbox()
        let generator = "openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass pass:drctl -in /dev/zero 2>/dev/null | head -c 2147483648"
        try sandbox.writePolicy(targets: [("big", ["sh", "-c", generator])])
        let backup = try sandbox.drctl(["backup", "--json"])
        #expect(backup.status == 0, "\(backup)")
        #expect(backup.stdout.contains("\"raw_size\" : 2147483648"), "\(backup)")
        let out = "\(sandbox.root)/restored"
        let restore = try sandbox.drctl(["restore", "--target", "big", "--to", out])
        #expect(restore.status == 0, "\(restore)")
        let expected = String(try Command.shell("\(generator) | sha256sum").prefix(64))
        #expect(try sandbox.sha256(out) == expected)
    }

    @Test func restoreNeverOverwritesWithoutForce() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("t", ["echo", "new content"])])
        #expect(try sandbox.drctl(["backup"]).status == 0)
        let out = "\(sandbox.root)/existing"
        try "precious".write(toFile: out, atomically: true, encoding: .utf8)
        let refused = try sandbox.drctl(["restore", "--target", "t", "--to", out])
        #expect(refused.status == 6, "\(refused)")
        #expect(refused.stderr.contains("already exists") && refused.stderr.contains("--force"))
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "precious")
        let forced = try sandbox.drctl(["restore", "--target", "t", "--to", out, "--force"])
        #expect(forced.status == 0, "\(forced)")
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "new content\n")
        #expect(sandbox.files(under: sandbox.root).allSatisfy { !$0.contains("drctl-partial") })
    }

    /// A restored file is synced before drctl reports it; `--no-sync` leaves that to the kernel.
    /// Both give the same bytes. (strace counts the syncs: a test cannot pull the power.)
    @Test func noSyncRestoresTheSameBytesWithoutSyncing() throws {
        let sandbox = try Sandbox()
        let input = "\(sandbox.root)/input"
        let bytes = (0..<3_000_000).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }
        #expect(FileManager.default.createFile(atPath: input, contents: Data(bytes)))
        try sandbox.writePolicy(targets: [("t", ["cat", input])])
        #expect(try sandbox.drctl(["backup"]).status == 0)
        func syncs(_ extra: [String], to out: String) throws -> Int {
            let trace = "\(sandbox.root)/trace-\(extra.count)"
            let result = try Command.run(["strace", "-f", "-e", "trace=fsync,fdatasync,sync_file_range", "-o", trace,
                                          Drctl.binary, "restore", "--target", "t", "--to", out, "--policy", sandbox.policyPath]
                                         + extra)
            #expect(result.status == 0, "\(result)")
            #expect(FileManager.default.contents(atPath: out) == Data(bytes))
            return try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n")
                .filter { $0.contains("sync") && !$0.contains("resumed") }.count
        }
        #expect(try syncs([], to: "\(sandbox.root)/durable") >= 1)
        #expect(try syncs(["--no-sync"], to: "\(sandbox.root)/scratch") == 0)
        let refused = try sandbox.drctl(["restore", "--target", "t", "--to", "postgres://127.0.0.1:1", "--no-sync"])
        #expect(refused.status == 2 && refused.stderr.contains("--no-sync applies to file destinations"), "\(refused)")
    }

    @Test func restoresAChosenBackupAndRejectsUnknownOnes() throws {
        let sandbox = try Sandbox()
        let counter = "\(sandbox.root)/counter"
        try "1".write(toFile: counter, atomically: true, encoding: .utf8)
        try sandbox.writePolicy(targets: [("t", ["cat", counter])])
        #expect(try sandbox.drctl(["backup"]).status == 0)
        try "2".write(toFile: counter, atomically: true, encoding: .utf8)
        #expect(try sandbox.drctl(["backup"]).status == 0)
        let list = try sandbox.drctl(["list", "--target", "t", "--json"])
        let ids = (try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]] ?? [])
            .compactMap { $0["backup_id"] as? String }
        #expect(ids.count == 2 && ids == ids.sorted())

        let newest = try sandbox.drctl(["restore", "--target", "t", "--to", "-"])
        #expect(newest.stdout == "2")
        let oldest = try sandbox.drctl(["restore", "--target", "t", "--backup", ids[0], "--to", "-"])
        #expect(oldest.stdout == "1")
        let missing = try sandbox.drctl(["restore", "--target", "t", "--backup", "20200101T000000.000Z-000000", "--to", "-"])
        #expect(missing.status == 5, "\(missing)")
        let malformed = try sandbox.drctl(["restore", "--target", "t", "--backup", "../../etc", "--to", "-"])
        #expect(malformed.status == 2, "\(malformed)")
        let noTarget = try sandbox.drctl(["restore", "--target", "nope", "--to", "-"])
        #expect(noTarget.status == 5 && noTarget.stderr.contains("no target named 'nope'"), "\(noTarget)")
    }

    /// --point-in-time picks the newest backup whose consistent point is at or before the time,
    /// and says how far before it is.
    @Test func pointInTimePicksTheNewestBackupAtOrBefore() throws {
        let sandbox = try Sandbox()
        let counter = "\(sandbox.root)/counter"
        try sandbox.writePolicy(targets: [("t", ["cat", counter])])
        var times: [String] = []
        for value in ["first", "second"] {
            try value.write(toFile: counter, atomically: true, encoding: .utf8)
            let backup = try sandbox.drctl(["backup", "--json"])
            let listed = try JSONSerialization.jsonObject(with: Data(backup.stdout.utf8)) as? [[String: Any]]
            times.append(listed?.first?["consistent_point"] as? String ?? "")
            usleep(20_000)
        }
        // At the first's point: the first; after both: the second; before both: none (exit 5).
        let first = try sandbox.drctl(["restore", "--target", "t", "--to", "-", "--point-in-time", times[0]])
        #expect(first.status == 0 && first.stdout == "first", "\(first)")
        // In plain words: which backup, what moment its data is from, and what it lacks.
        #expect(first.stderr.contains("restored backup ") && first.stderr.contains("the newest taken at or before it"), "\(first)")
        #expect(first.stderr.contains("its data is from \(times[0]) or shortly after, when the backup began "
            + "(0 s before the requested time); changes made after that are not in it"), "\(first)")
        #expect(!first.stderr.contains("at-or-after"), "\(first)")
        let later = try sandbox.drctl(["restore", "--target", "t", "--to", "-", "--point-in-time", "2099-01-01T00:00:00Z"])
        #expect(later.stdout == "second", "\(later)")
        let before = try sandbox.drctl(["restore", "--target", "t", "--to", "-", "--point-in-time", "2000-01-01T00:00:00Z"])
        #expect(before.status == 5 && before.stderr.contains("no backup whose consistent point"), "\(before)")
        let both = try sandbox.drctl(["restore", "--target", "t", "--to", "-", "--point-in-time", times[0], "--backup", "x"])
        #expect(both.status == 2, "\(both)")
        let malformed = try sandbox.drctl(["restore", "--target", "t", "--to", "-", "--point-in-time", "yesterday"])
        #expect(malformed.status == 2 && malformed.stderr.contains("RFC 3339"), "\(malformed)")
    }
}
