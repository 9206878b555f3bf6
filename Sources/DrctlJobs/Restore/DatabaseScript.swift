/// The SQL script pg_restore writes for a database's own entries (`--create`), as bytes: its
/// comment and settings are in the database's encoding, which need not be UTF-8.
struct DatabaseScript {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    private static let create = Array("CREATE DATABASE ".utf8)

    /// The script with its first line that starts with `CREATE DATABASE ` (the DATABASE entry
    /// comes before the comment and privileges, whose text could hold anything) replaced by
    /// `statement`; nil when there is no such line.
    func replacingCreate(with statement: String) -> [UInt8]? {
        var lineStart = 0
        while lineStart < bytes.count {
            let lineEnd = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            if bytes[lineStart..<lineEnd].starts(with: Self.create) {
                return Array(bytes[..<lineStart]) + Array(statement.utf8) + Array(bytes[lineEnd...])
            }
            lineStart = lineEnd + 1
        }
        return nil
    }
}
