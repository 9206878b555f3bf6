import Glibc
import Logging
import DrctlPipeline
import DrctlSources

/// The archive `restore --jobs` stages for pg_restore: a scratch file (written without syncs:
/// it is removed after loading), loaded while it is written (`StagedLoad`), with the data
/// offsets filled into its table of contents.
///
/// pg_dump writes those offsets only when its output is a file it can seek in; drctl's dumps go
/// through a pipe, so their entries say "offset not set", and each of pg_restore's workers would
/// find its table's data by skipping block by block (about one block per row) from the start
/// of the file. The archive's bytes pass through drctl while it is staged anyway: the scanner
/// notes where each data block starts, and the entries get what pg_dump would have written.
final class StagedArchive: ByteSink {
    private let file: FileSink
    private let scanner = CustomArchiveScanner(countingRows: false)
    private let load: StagedLoad

    init(at path: String, into server: PostgresDestination, database: String, jobs: Int, logger: Logger) throws {
        file = try FileSink(path: path, replace: true, durable: false)
        do {
            load = try StagedLoad(server: server, database: database, jobs: jobs, writingPath: file.temporary, logger: logger)
        } catch {
            file.abort()
            throw error
        }
        let (load, scanner) = (self.load, self.scanner)
        scanner.onTableOfContents = { load.tableOfContents($0, integerSize: $1) }
        scanner.onDataBlock = { load.dataBlock(id: $0, at: $1) }
        file.beforePlacing = { fd in
            try load.streamEnded()
            try Self.writeOffsets(scanner, into: fd, path: path, released: load.released > 0, logger: logger)
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        try file.write(bytes)
        scanner.consume(bytes)
        try load.wrote(bytes.count)
    }

    func finish() throws {
        try file.finish()
    }

    func abort() {
        file.abort()
        load.abandon()
    }

    /// After `finish`: the loads end, and pg_restore restores the rest from the staged file.
    func complete() throws {
        try load.complete(at: file.path)
    }

    /// `released`: the loaders punched loaded tables' data out of the file, so pg_restore can
    /// only seek to what it restores, not read through the file to find it.
    private static func writeOffsets(_ scanner: CustomArchiveScanner, into fd: Int32, path: String, released: Bool,
                                     logger: Logger) throws {
        if let failure = scanner.failure {
            if released {
                throw StagedLoadError(step: "reading the staged archive's data blocks",
                                      reason: "\(failure); restore without --jobs (streamed)")
            }
            logger.notice("staged archive left as it is: pg_restore finds its data by reading through it",
                          metadata: ["reason": "\(failure)"])
            return
        }
        let patches = scanner.offsetPatches
        for patch in patches {
            let written = patch.bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(patch.position)) }
            guard written == patch.bytes.count else {
                throw RestoreDestinationError(path: path, operation: "write the data offsets into", code: errno)
            }
        }
        logger.debug("data offsets written into the staged archive", metadata: ["entries": "\(patches.count)"])
    }
}
