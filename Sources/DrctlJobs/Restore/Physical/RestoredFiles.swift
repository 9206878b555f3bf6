import Synchronization

/// Every regular file a physical restore's archives held, named as `backup_manifest` names it
/// (a tablespace's under `pg_tblspc/<oid>/`; its bytes, `RawPath`), with its size and SHA-256 as
/// `TarExtractor` computed them while writing it. An archive's files are added once it was
/// extracted whole (an aborted extraction adds nothing: another region's copy replaces it).
final class RestoredFiles: Sendable {
    struct File: Sendable {
        let path: RawPath
        let size: UInt64
        /// Lowercase hex.
        let sha256: String
    }

    private let state = Mutex<(files: [RawPath: File], repeated: [String])>(([:], []))

    func add(_ files: [File], archive: String) {
        state.withLock { state in
            for file in files {
                if state.files.updateValue(file, forKey: file.path) != nil { state.repeated.append("\"\(file.path)\" (again in \(archive))") }
            }
        }
    }

    var byPath: [RawPath: File] { state.withLock { $0.files } }
    /// Paths two archives both held.
    var repeated: [String] { state.withLock { $0.repeated } }
}
