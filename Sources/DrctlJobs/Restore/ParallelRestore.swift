import Foundation
import Glibc
import DrctlStorage

/// `restore --jobs N --staging-dir DIR` into a PostgreSQL server: pg_restore can only load in
/// parallel from a seekable file, so each database's archive is first restored (decrypted,
/// decompressed, authenticated) into DIR, then loaded with `pg_restore --jobs N`, then deleted.
/// Disk cost: the largest database's archive (its raw size in the manifest) at a time.
public struct ParallelRestore: Sendable {
    public let jobs: Int
    public let stagingDirectory: String

    public init(jobs: Int, stagingDirectory: String) {
        self.jobs = jobs
        self.stagingDirectory = stagingDirectory
    }

    /// Where `object` is staged, after checking the directory has room for it.
    func stagingPath(for object: StoredObject, of manifest: BackupManifest) throws -> String {
        var info = statvfs()
        guard statvfs(stagingDirectory, &info) == 0 else {
            throw JobError.invalidDestination(url: stagingDirectory,
                                              reason: "staging directory: \(String(cString: strerror(errno)))")
        }
        let free = UInt64(info.f_bavail) * UInt64(info.f_frsize)
        guard free > object.rawSize else {
            throw JobError.invalidDestination(url: stagingDirectory, reason:
                "staging \(object.name) needs \(object.rawSize) bytes and the staging directory has \(free) free; "
                + "choose another --staging-dir or restore without --jobs (streamed, no staging)")
        }
        return "\(stagingDirectory)/.drctl-staged-\(manifest.backupID)-\(object.name)"
    }
}
