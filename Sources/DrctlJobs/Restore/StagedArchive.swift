import Glibc
import Logging
import DrctlSources

/// The archive `restore --jobs` stages for pg_restore: a scratch file (written without syncs:
/// it is removed after pg_restore), with the data offsets filled into its table of contents.
///
/// pg_dump writes those offsets only when its output is a file it can seek in; drctl's dumps go
/// through a pipe, so their entries say "offset not set", and each of pg_restore's workers would
/// find its table's data by skipping block by block (about one block per row) from the start
/// of the file. The archive's bytes pass through drctl while it is staged anyway: the parser
/// notes where each data block starts, and the entries get what pg_dump would have written.
enum StagedArchive {
    static func sink(at path: String, logger: Logger) throws -> FileSink {
        let parser = CustomArchiveRowCounter()
        let sink = try FileSink(path: path, replace: true, durable: false)
        sink.observer = { parser.consume($0) }
        sink.beforePlacing = { fd in
            if let failure = parser.failure {
                logger.notice("staged archive left as it is: pg_restore finds its data by reading through it",
                              metadata: ["reason": "\(failure)"])
                return
            }
            let patches = parser.offsetPatches
            for patch in patches {
                let written = patch.bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(patch.position)) }
                guard written == patch.bytes.count else {
                    throw RestoreDestinationError(path: path, operation: "write the data offsets into", code: errno)
                }
            }
            logger.debug("data offsets written into the staged archive", metadata: ["entries": "\(patches.count)"])
        }
        return sink
    }
}
