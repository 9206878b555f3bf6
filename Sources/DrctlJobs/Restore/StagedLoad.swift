import Foundation
import Glibc
import Logging
import DrctlSources

/// `restore --jobs N` of one database: loads the archive while it is still being staged, so
/// loading does not wait for the whole file.
///
/// 1. When the table of contents has passed, `pg_restore --section=pre-data` creates the
///    schema from the staged file (it reads no data).
/// 2. N loaders, each on its own connection, then COPY one table each from the staged file, in
///    the order their data arrives, reading behind the writer (`StagedBlockReader`).
/// 3. When the stream has ended and every table has been taken by a loader, `pg_restore --jobs
///    N` starts on the rest while the last loads finish: `--section=data --section=post-data`
///    with a `--use-list` of every entry but the tables loaded (so it restores large objects
///    and sequence values, and builds indexes, constraints, triggers, grants).
///    It starts only once every table is inside its COPY, which holds the table's ROW
///    EXCLUSIVE lock until it commits: an index, constraint, trigger, rule or policy on that
///    table needs a lock that conflicts with it, so it waits for the table's data, as it would
///    behind pg_restore's own dependency order; the rest goes ahead meanwhile.
/// 4. A materialized view's data is the one post-data entry that reads tables without such a
///    lock (REFRESH takes ACCESS SHARE on what it reads): those entries run last, in a third
///    pg_restore, after every load has committed. pg_restore puts them last too.
///
/// pg_restore itself splits a restore by these sections; entries of no section belong to the
/// section before them, and the lists keep the archive's order, so each lands where pg_restore
/// alone would put it. If the table of contents could not be read (an archive version drctl does
/// not know), nothing loads early and step 3 is one whole `pg_restore --jobs N`.
///
/// Connections: up to N loaders and N pg_restore workers at once while the last tables load.
/// Errors (a COPY the server refuses, pre-data failing) stop the stream at its next write;
/// `abandon` (the stream failed) stops the loaders and waits for them.
// unchecked: every `var` is guarded by `condition` (an NSCondition, for its waits).
final class StagedLoad: @unchecked Sendable {
    typealias Entry = CustomArchiveScanner.Entry

    private let server: PostgresDestination
    private let database: String
    private let jobs: Int
    /// The file's name while it is written (`FileSink.temporary`).
    private let writingPath: String
    private let logger: Logger
    private let file: Int32

    private let condition = NSCondition()
    // Guarded by `condition`:
    private var written = 0
    /// No more bytes will be written.
    private var ended = false
    private var abandoned = false
    private var entries: [Entry]?
    private var entryOfID: [Int: Entry] = [:]
    private var integerSize = 4
    private var pending: [(entry: Entry, position: Int)] = []
    private var preDataRunning = false
    private var preDataDone = false
    private var failure: Error?
    /// Tables a loader took (loading or loaded), and how many of those are not yet in their COPY.
    private var taken: Set<Int> = []
    private var starting = 0
    private var loadedTables = 0
    private var loadedBytes = 0
    private var releasedBytes = 0
    private var threads = 0

    init(server: PostgresDestination, database: String, jobs: Int, writingPath: String, logger: Logger) throws {
        self.server = server
        self.database = database
        self.jobs = jobs
        self.writingPath = writingPath
        self.logger = logger
        // Read and write: the loaders punch what they have read out of it (`StagedBlockReader`).
        file = open(writingPath, O_RDWR | O_CLOEXEC)
        guard file >= 0 else { throw RestoreDestinationError(path: writingPath, operation: "open", code: errno) }
    }

    deinit { close(file) }

    // MARK: Called on the stream's thread

    func tableOfContents(_ entries: [Entry], integerSize: Int) {
        condition.lock()
        self.entries = entries
        entryOfID = Dictionary(entries.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.integerSize = integerSize
        preDataRunning = true
        condition.unlock()
        spawn { $0.restorePreData() }
        for _ in 0..<jobs { spawn { $0.loadTables() } }
    }

    func dataBlock(id: Int, at position: Int) {
        condition.lock()
        defer { condition.unlock() }
        // A table whose data is not COPY text (an INSERT dump) is pg_restore's.
        guard let entry = entryOfID[id], entry.isTableData, !(entry.copyStatement ?? "").isEmpty else { return }
        pending.append((entry, position))
        condition.broadcast()
    }

    /// `count` more bytes are in the file; throws what stopped the load, to stop the stream.
    func wrote(_ count: Int) throws {
        condition.lock()
        defer { condition.unlock() }
        written += count
        condition.broadcast()
        if let failure { throw failure }
    }

    /// Bytes of table data punched out of the staged file after loading.
    var released: Int {
        condition.lock()
        defer { condition.unlock() }
        return releasedBytes
    }

    /// The whole archive is in the file, still under its writing name: waits for pre-data's
    /// pg_restore, which reads it by that name.
    func streamEnded() throws {
        condition.lock()
        defer { condition.unlock() }
        ended = true
        condition.broadcast()
        while preDataRunning { condition.wait() }
        if let failure { throw failure }
    }

    /// The stream failed: stop loading and wait for the loaders to stop.
    func abandon() {
        condition.lock()
        abandoned = true
        ended = true
        condition.broadcast()
        condition.unlock()
        waitForThreads()
    }

    // MARK: After the stream

    /// Has `pg_restore --jobs` restore the rest from `path` (the staged file, complete and in
    /// place) while the loads end, then the materialized views' data.
    func complete(at path: String) throws {
        condition.lock()
        while (!pending.isEmpty || starting > 0) && !stopped { condition.wait() }
        let (entries, taken, loading, failure) = (self.entries, self.taken, self.taken.count - loadedTables, self.failure)
        condition.unlock()
        if let failure {
            abandon()
            throw failure
        }
        guard let entries else {
            logger.info("pg_restore from the staged archive", metadata: ["database": "\(database)", "jobs": "\(jobs)"])
            return try server.restoreArchive(at: path, database: database, jobs: jobs)
        }
        let views = entries.filter { $0.desc == "MATERIALIZED VIEW DATA" }.map(\.id)
        let rest = entries.map(\.id).filter { !taken.contains($0) && !views.contains($0) }
        logger.info("pg_restore of the rest from the staged archive", metadata: [
            "database": "\(database)", "jobs": "\(jobs)", "entries": "\(rest.count)", "tables_still_loading": "\(loading)",
        ])
        do {
            try restore(rest, from: path, sections: ["data", "post-data"])
        } catch {
            abandon()
            throw error
        }
        waitForThreads()
        condition.lock()
        let (tables, loadedBytes, releasedBytes, loadFailure) = (loadedTables, self.loadedBytes, self.releasedBytes, self.failure)
        condition.unlock()
        if let loadFailure { throw loadFailure }
        logger.info("table data loaded while staging", metadata: [
            "database": "\(database)", "tables": "\(tables)", "bytes": "\(loadedBytes)",
            "released_from_staging": "\(releasedBytes)",
        ])
        if !views.isEmpty {
            logger.info("pg_restore of the materialized views' data", metadata: ["database": "\(database)", "entries": "\(views.count)"])
            try restore(views, from: path, sections: ["post-data"])
        }
    }

    /// `pg_restore --jobs N` of the entries `ids`, in the archive's order, within `sections`.
    private func restore(_ ids: [Int], from path: String, sections: [String]) throws {
        let list = "\(path).list"
        guard FileManager.default.createFile(atPath: list, contents: Data(ids.map { "\($0)\n" }.joined().utf8)) else {
            throw RestoreDestinationError(path: list, operation: "create", code: errno)
        }
        defer { unlink(list) }
        try server.restoreArchive(at: path, database: database, jobs: jobs,
                                  selecting: sections.map { "--section=\($0)" } + ["--use-list=\(list)"])
    }

    // MARK: Workers

    private func spawn(_ body: @escaping @Sendable (StagedLoad) -> Void) {
        condition.lock()
        threads += 1
        condition.unlock()
        let thread = Thread { [self] in
            body(self)
            condition.lock()
            threads -= 1
            condition.broadcast()
            condition.unlock()
        }
        thread.name = "drctl-load"
        thread.start()
    }

    private func waitForThreads() {
        condition.lock()
        while threads > 0 { condition.wait() }
        condition.unlock()
    }

    private func fail(_ error: Error) {
        condition.lock()
        if failure == nil { failure = error }
        condition.broadcast()
        condition.unlock()
    }

    private var stopped: Bool { failure != nil || abandoned }

    private func restorePreData() {
        var error: Error?
        do {
            try server.restoreArchive(at: writingPath, database: database, jobs: 1, selecting: ["--section=pre-data"])
        } catch let caught {
            error = StagedLoadError(step: "creating the schema of database \(database) (pg_restore --section=pre-data)",
                                    reason: "\(caught)")
        }
        condition.lock()
        if let error, failure == nil { failure = error }
        preDataRunning = false
        preDataDone = error == nil
        condition.broadcast()
        condition.unlock()
    }

    private func loadTables() {
        condition.lock()
        while !preDataDone && !stopped { condition.wait() }
        let go = !stopped
        let settings = (entries ?? []).filter(\.isSessionSetting).compactMap(\.definition)
        condition.unlock()
        guard go else { return }
        do {
            let connection: PostgresConnection
            do {
                connection = try PostgresConnection(server.endpoint(database))
                try Self.setUp(connection, settings: settings)
            } catch {
                throw StagedLoadError(step: "connecting a loader to database \(database)", reason: "\(error)")
            }
            defer { connection.close() }
            while let (entry, position) = nextTable() {
                let bytes = try load(entry, at: position, over: connection)
                condition.lock()
                loadedTables += 1
                loadedBytes += bytes
                condition.unlock()
            }
        } catch {
            fail(error)
        }
    }

    /// The session pg_restore sets up before it loads data, with the archive's own encoding,
    /// string and search-path settings.
    private static func setUp(_ connection: PostgresConnection, settings: [String]) throws {
        let fixed = ["SET statement_timeout = 0", "SET lock_timeout = 0", "SET idle_in_transaction_session_timeout = 0",
                     "SET check_function_bodies = false", "SET xmloption = content",
                     "SET client_min_messages = warning", "SET row_security = off"]
        for statement in fixed + settings { try connection.query(statement) }
    }

    /// The next table to load; its COPY must start, then `copyStarted`.
    private func nextTable() -> (Entry, Int)? {
        condition.lock()
        defer { condition.unlock() }
        while pending.isEmpty && !ended && !stopped { condition.wait() }
        guard !stopped, !pending.isEmpty else { return nil }
        let next = pending.removeFirst()
        taken.insert(next.entry.id)
        starting += 1
        return next
    }

    private func copyStarted() {
        condition.lock()
        starting -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until the file extends beyond `position`; returns its size.
    private func available(beyond position: Int) throws -> Int {
        condition.lock()
        defer { condition.unlock() }
        while written <= position && !ended && !stopped { condition.wait() }
        if let failure { throw failure }
        if abandoned { throw Abandoned() }
        guard written > position else { throw StagedBlockReader.Malformed(description: "the archive ends inside a table's data") }
        return written
    }

    struct Abandoned: Error {}

    /// One table's data through COPY; returns the bytes sent.
    private func load(_ entry: Entry, at position: Int, over connection: PostgresConnection) throws -> Int {
        let step = "loading the data of table \(entry.schema ?? "").\(entry.tag ?? "") into database \(database)"
        do {
            try connection.startCopyIn(entry.copyStatement ?? "")
        } catch {
            copyStarted()
            throw StagedLoadError(step: step, reason: "\(error)")
        }
        copyStarted()
        var reader = StagedBlockReader(file: file, at: position, integerSize: integerSize, releasing: true) { [self] in
            try available(beyond: $0)
        }
        defer {
            condition.lock()
            releasedBytes += reader.releasedBytes
            condition.unlock()
        }
        var batch: [UInt8] = []
        batch.reserveCapacity(Self.batchSize)
        var total = 0
        do {
            try reader.expectTableData(id: entry.id)
            try reader.forEachPiece { piece in
                batch.append(contentsOf: piece)
                guard batch.count >= Self.batchSize else { return }
                total += batch.count
                try batch.withUnsafeBytes { try connection.putCopyData($0) }
                batch.removeAll(keepingCapacity: true)
            }
            total += batch.count
            try batch.withUnsafeBytes { try connection.putCopyData($0) }
        } catch {
            try? connection.endCopy(abandoning: "drctl stopped this load")
            if error is Abandoned { throw error }
            throw StagedLoadError(step: step, reason: "\(error)")
        }
        do {
            try connection.endCopy()
        } catch {
            throw StagedLoadError(step: step, reason: "\(error)")
        }
        return total
    }

    private static let batchSize = 256 << 10
}

/// A step of loading into the destination failed: the destination's doing (the stream's bytes
/// are authenticated before they reach the file), so another region's copy would not help.
struct StagedLoadError: Error, CustomStringConvertible {
    /// "loading the data of table public.t into database d", ...
    let step: String
    let reason: String

    var description: String { "\(step) failed: \(reason)" }
}
