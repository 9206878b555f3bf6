import DrctlTestSupport
import Foundation
import Testing

/// A sandbox whose policy has one physical PostgreSQL target, `main`, and a real PostgreSQL 15
/// archiving its WAL with the real drctl binary as `archive_command` (run by the server as the
/// `postgres` OS user, who therefore owns the sandbox: the policy, the key, the repository).
final class WalArchiving {
    let sandbox: Sandbox
    let cluster: PostgresCluster

    /// - Parameters:
    ///   - regions: the policy's regions (default: the sandbox's directory); `minRegions` of them must hold each file.
    ///   - settings: more `postgresql.conf` lines.
    init(regions: [(String, String)]? = nil, minRegions: Int = 1, settings: [String] = []) throws {
        sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [], regions: regions, minRegions: minRegions, rawTargets: Self.physicalTarget)
        try Self.giveToPostgres(sandbox.root)
        let archive = "\(Drctl.binary) wal-push --policy \(sandbox.policyPath) --target main %p"
        cluster = try PostgresCluster.start(settings: [
            "wal_level = replica", "archive_mode = on", "archive_command = '\(archive)'", "max_wal_senders = 4",
            "wal_keep_size = '1GB'",
        ] + settings, allowReplication: true)
    }

    deinit { cluster.stop() }

    static let physicalTarget = """
          - name: main
            kind: postgres
            mode: physical
            connection:
              host: 127.0.0.1
              port: 5432
              user: postgres
        """

    /// The server's `postgres` OS user owns `path` (and what is below).
    static func giveToPostgres(_ path: String) throws {
        try Command.shell("chown -R postgres: '\(path)'")
    }

    /// The cluster's system identifier.
    var systemIdentifier: String { get throws { try cluster.sql("SELECT system_identifier FROM pg_control_system()") } }

    /// Switches to a new segment after some writes and waits until the archiver has archived
    /// the one it left (`last_archived_wal` is it or a later segment), or failed to since the
    /// switch (the failed count grew: it archives in order, so this one waits behind the
    /// failure); throws when neither happened within `timeout` seconds. Returns the segment's name.
    @discardableResult
    func switchSegment(rows: Int = 1000, timeout: Double = 30) throws -> String {
        let failedBefore = try archiverCounts().failed
        let segment = try switchSegmentUnarchived(rows: rows)
        var archiver = ""
        let settled = try eventually(within: timeout) {
            archiver = try cluster.sql("SELECT coalesce(last_archived_wal, '') || ' ' || failed_count FROM pg_stat_archiver")
            let fields = archiver.split(separator: " ", omittingEmptySubsequences: false)
            // A segment's name, or a .backup/.partial file's (its segment's name first); not a .history file.
            let last = fields[0].prefix(segment.count)
            let archived = last.count == segment.count && last.allSatisfy(\.isHexDigit) && last >= segment
            return archived || (Int(fields.last ?? "") ?? 0) > failedBefore
        }
        guard settled else { throw SwitchNotArchived(segment: segment, timeout: timeout, archiver: archiver) }
        return segment
    }

    /// Writes `rows` rows and switches to the next segment; returns the segment just completed
    /// without waiting for any archiver (a cluster with `archive_mode = off`: the tests push
    /// its copies by hand).
    @discardableResult
    func switchSegmentUnarchived(rows: Int = 1000) throws -> String {
        try cluster.exec(["CREATE TABLE IF NOT EXISTS t (id serial PRIMARY KEY, payload text)",
                          "INSERT INTO t (payload) SELECT md5(g::text) FROM generate_series(1, \(rows)) g"])
        let segment = try cluster.sql("SELECT pg_walfile_name(pg_current_wal_lsn())")
        try cluster.sql("SELECT pg_switch_wal()")
        return segment
    }

    struct SwitchNotArchived: Error, CustomStringConvertible {
        let segment: String, timeout: Double, archiver: String
        var description: String {
            "segment \(segment) was neither archived nor failed within \(timeout) s (pg_stat_archiver: last archived, failed count: \(archiver))"
        }
    }

    /// `pg_stat_archiver`'s archived and failed counts.
    func archiverCounts() throws -> (archived: Int, failed: Int) {
        let row = try cluster.sql("SELECT archived_count || ' ' || failed_count FROM pg_stat_archiver").split(separator: " ")
        return (Int(row[0]) ?? -1, Int(row[1]) ?? -1)
    }

    /// A copy of a segment still in pg_wal, in a scratch folder of the sandbox (owned by postgres).
    func copyOfSegment(_ name: String, into folder: String = "scratch") throws -> String {
        let directory = "\(sandbox.root)/\(folder)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let copy = "\(directory)/\(name)"
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: cluster.dataDirectory.appendingPathComponent("pg_wal/\(name)").path, toPath: copy)
        try Self.giveToPostgres(directory)
        return copy
    }

    /// A real segment of the cluster, copied aside, whose pages after the first are random: its
    /// header still names it (so `wal-push` takes it), and zstd cannot shrink its 16 MiB, so
    /// writing it lasts long enough to be cut (and to S3 it is a multipart upload of 5 MiB parts).
    func incompressibleSegment() throws -> (name: String, copy: String) {
        try cluster.exec(["CREATE TABLE IF NOT EXISTS t (x int)", "INSERT INTO t SELECT generate_series(1, 1000)"])
        let name = try cluster.sql("SELECT pg_walfile_name(pg_current_wal_lsn())")
        try cluster.sql("SELECT pg_switch_wal()")
        let copy = try copyOfSegment(name)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: copy)[.size] as? Int)
        let random = try #require(FileHandle(forReadingAtPath: "/dev/urandom")).readData(ofLength: size - 8192)
        let handle = try #require(FileHandle(forUpdatingAtPath: copy))
        try handle.seek(toOffset: 8192)
        try handle.write(contentsOf: random)
        try handle.close()
        return (name, copy)
    }

    /// A policy whose one region, `s3`, is `s3://backups/wal` on the moto (or relay) listening on
    /// `port` (min_regions 1); `more` follows the target `main` (more of its keys, indented by four).
    func writeS3Policy(endpoint port: Int, more: String = "") throws {
        try """
            version: 1
            repository:
              regions:
                - name: s3
                  url: s3://backups/wal
                  endpoint: http://127.0.0.1:\(port)
                  path_style: true
              min_regions: 1
              encryption:
                key_file: \(sandbox.keyPath)
            targets:
            \(Self.physicalTarget)
            \(more)
            """.write(toFile: sandbox.policyPath, atomically: true, encoding: .utf8)
    }

    /// drctl run as the server's OS user, as the archiver runs it.
    @discardableResult
    func drctlAsPostgres(_ arguments: [String]) throws -> Drctl.Result {
        try Command.run(["runuser", "-u", "postgres", "--", Drctl.binary] + arguments + ["--policy", sandbox.policyPath])
    }

    /// Flips one bit 100 bytes before the end of `file`'s copy in the sandbox's directory
    /// region: a copy that no longer authenticates.
    func damageStoredCopy(of file: String) throws {
        let handle = try #require(FileHandle(forUpdatingAtPath: "\(sandbox.repository)/\(try key(of: file))"))
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size - 100)
        let byte = try #require(try handle.read(upToCount: 1)).first!
        try handle.seek(toOffset: size - 100)
        try handle.write(contentsOf: Data([byte ^ 0x01]))
    }

    /// The repository key of `file` of this cluster (or of the cluster `system`).
    func key(of file: String, system: String? = nil) throws -> String {
        let folder = file.hasSuffix(".history") ? "history" : String(file.prefix(16))
        return "wal/main/\(try system ?? systemIdentifier)/\(folder)/\(file)"
    }
}
