import Foundation

/// Who listens on a loopback port, from /proc: a server a test started is ready once *it* holds
/// the listening socket on its port. A bare connect cannot tell it from another server that took
/// the port first (a suite once sent moto's requests to a relay of another suite that way), and
/// an HTTP request would be an action moto counts.
public enum PortOwner {
    /// Whether process `pid` holds the socket listening on 127.0.0.1:`port`.
    public static func listens(pid: pid_t, on port: Int) -> Bool {
        guard let inode = listeningInode(port: port),
              let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd") else { return false }
        return descriptors.contains {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)")) == "socket:[\(inode)]"
        }
    }

    /// The inode of the socket in state LISTEN (0A) on 127.0.0.1:`port`, from /proc/net/tcp.
    static func listeningInode(port: Int) -> String? {
        guard let table = try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8) else { return nil }
        let local = String(format: "0100007F:%04X", port)
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            if fields.count > 9, fields[1] == local, fields[3] == "0A" { return String(fields[9]) }
        }
        return nil
    }
}
