import DrctlPipeline
import DrctlSources
import Foundation

extension PostgresCluster {
    /// A cluster that takes replication connections on its socket (BASE_BACKUP), with the
    /// tablespace `ts1` in a directory of its own holding table `t` (1000 rows); returns that
    /// directory too.
    public static func startWithTablespace() throws -> (PostgresCluster, URL) {
        let cluster = try PostgresCluster.start()
        let hba = cluster.dir.appendingPathComponent("data/pg_hba.conf")
        let handle = try FileHandle(forWritingTo: hba)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("local replication all trust\n".utf8))
        try handle.close()
        try cluster.exec(["SELECT pg_reload_conf()"])
        let space = cluster.dir.appendingPathComponent("ts1")
        try FileManager.default.createDirectory(at: space, withIntermediateDirectories: true)
        if getuid() == 0 { _ = try ChildProcess.run(["/bin/chown", "postgres:", space.path]) }
        try cluster.exec(["CREATE TABLESPACE ts1 LOCATION '\(space.path)'",
                          "CREATE TABLE t (id int) TABLESPACE ts1", "INSERT INTO t SELECT generate_series(1, 1000)"])
        return (cluster, space)
    }
}

/// Reads a source to its end in pieces smaller than a server's messages, then finishes it.
public func readAll(_ source: ByteSource) throws -> [UInt8] {
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 10_000)
    while true {
        let count = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
        if count == 0 { break }
        bytes += buffer[..<count]
    }
    try source.finish()
    return bytes
}
