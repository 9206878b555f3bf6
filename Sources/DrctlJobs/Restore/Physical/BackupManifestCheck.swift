import DrctlCrypto
import Foundation

/// PostgreSQL's `backup_manifest` checked against the files a restore extracted, with
/// `pg_verifybackup`'s rules (PostgreSQL 15, src/bin/pg_verifybackup/pg_verifybackup.c, its
/// checks short of parsing WAL): the manifest's own `Manifest-Checksum` (SHA-256 of every byte
/// up to the line that holds it), then every file the manifest lists is present with its size
/// and checksum, and no file is present that it does not list, except what pg_verifybackup
/// ignores by default (`backup_manifest`, `pg_wal/`, `postgresql.auto.conf`,
/// `recovery.signal`, `standby.signal`). Paths are compared as bytes (`RawPath`): `Path` as its
/// UTF-8, `Encoded-Path` (a name that is not UTF-8) as the bytes its hex encodes.
///
/// The checksums are the ones `TarExtractor` computed while writing the files: the restore does
/// not read 900 MB back to verify them. drctl asks the server for SHA-256 checksums
/// (`MANIFEST_CHECKSUMS 'SHA256'`); a manifest whose files carry another algorithm cannot be
/// checked from those hashes (`checksumsComputed` is false) and the restore runs
/// `pg_verifybackup` instead.
struct BackupManifestCheck {
    struct Entry {
        let path: RawPath
        let size: UInt64
        /// "SHA256", "NONE", … as the manifest names it.
        let algorithm: String
        let checksum: String
    }

    let entries: [Entry]

    /// pg_verifybackup's default `--ignore` list: a path equal to one of these or below it.
    static let ignored: [RawPath] = ["backup_manifest", "pg_wal", "postgresql.auto.conf", "recovery.signal", "standby.signal"]

    /// Parses the manifest and checks its own checksum; throws `verifyFailed` naming what is wrong.
    init(manifest bytes: [UInt8]) throws {
        try Self.checkManifestChecksum(bytes)
        guard let document = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              let files = document["Files"] as? [[String: Any]] else {
            throw PhysicalRestoreError.verifyFailed("backup_manifest is not a PostgreSQL backup manifest (no \"Files\" list)")
        }
        entries = try files.map { file in
            let path: RawPath
            if let plain = file["Path"] as? String {
                path = RawPath(plain)
            } else if let encoded = file["Encoded-Path"] as? String, let raw = hexDecoded(encoded) {
                path = RawPath(raw)
            } else {
                throw PhysicalRestoreError.verifyFailed("backup_manifest has a file entry without a path")
            }
            guard let size = (file["Size"] as? NSNumber)?.uint64Value else {
                throw PhysicalRestoreError.verifyFailed("backup_manifest's entry for \"\(path)\" has no size")
            }
            return Entry(path: path, size: size, algorithm: (file["Checksum-Algorithm"] as? String) ?? "NONE",
                         checksum: ((file["Checksum"] as? String) ?? "").lowercased())
        }
    }

    /// Whether every file's checksum is one the extraction computed (SHA-256) or none at all.
    var checksumsComputed: Bool { entries.allSatisfy { ["SHA256", "NONE"].contains($0.algorithm.uppercased()) } }

    static func isIgnored(_ path: RawPath) -> Bool {
        ignored.contains { path.isWithin($0) }
    }

    /// What differs between the manifest and the restored files, in pg_verifybackup's words
    /// (empty: they match).
    func problems(in restored: RestoredFiles) -> [String] {
        let files = restored.byPath
        var problems = restored.repeated.map { "\($0) is present twice" }
        var listed = Set<RawPath>()
        for entry in entries {
            listed.insert(entry.path)
            if Self.isIgnored(entry.path) { continue }
            guard let file = files[entry.path] else {
                problems.append("\"\(entry.path)\" is present in the manifest but not in the backup's archives")
                continue
            }
            if file.size != entry.size {
                problems.append("\"\(entry.path)\" has size \(file.size) in the backup's archives but size \(entry.size) in the manifest")
            } else if entry.algorithm.uppercased() == "SHA256" && file.sha256 != entry.checksum {
                problems.append("checksum mismatch for file \"\(entry.path)\"")
            }
        }
        for path in files.keys.sorted() where !listed.contains(path) && !Self.isIgnored(path) {
            problems.append("\"\(path)\" is present in the backup's archives but not in the manifest")
        }
        return problems
    }

    /// Throws `verifyFailed` naming the first differences.
    func verify(_ restored: RestoredFiles) throws {
        let problems = problems(in: restored)
        guard !problems.isEmpty else { return }
        let shown = problems.prefix(10).joined(separator: "; ")
        throw PhysicalRestoreError.verifyFailed(problems.count > 10 ? "\(shown); and \(problems.count - 10) more" : shown)
    }

    /// PostgreSQL's rule (src/common/parse_manifest.c, `verify_manifest_checksum`): the last
    /// line holds the checksum, which covers every byte up to and including the newline before it.
    private static func checkManifestChecksum(_ bytes: [UInt8]) throws {
        let newlines = bytes.indices.filter { bytes[$0] == UInt8(ascii: "\n") }
        guard newlines.count >= 2, newlines.last == bytes.count - 1 else {
            throw PhysicalRestoreError.verifyFailed("backup_manifest does not end with its checksum line")
        }
        let lastLine = String(decoding: bytes[(newlines[newlines.count - 2] + 1)...], as: UTF8.self)
        guard let range = lastLine.range(of: #""Manifest-Checksum"\s*:\s*"([0-9a-fA-F]{64})""#, options: .regularExpression) else {
            throw PhysicalRestoreError.verifyFailed("backup_manifest has no Manifest-Checksum line")
        }
        let recorded = lastLine[range].split(separator: "\"").last.map { $0.lowercased() } ?? ""
        let digest = SHA256Digest()
        bytes.withUnsafeBytes { digest.update(UnsafeRawBufferPointer(rebasing: $0[...newlines[newlines.count - 2]])) }
        guard digest.finalizeHex() == recorded else {
            throw PhysicalRestoreError.verifyFailed("manifest checksum mismatch: backup_manifest's bytes are not the ones its Manifest-Checksum covers")
        }
    }
}
