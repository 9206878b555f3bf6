/// Where the WAL archive lives inside a region (docs/FORMAT.md, "WAL archive"):
///
///     wal/<target>/<system-identifier>/<first 16 of the name>/<file>   segments, .partial, .backup
///     wal/<target>/<system-identifier>/history/<file>                  .history files
public enum WalLayout {
    public static let root = "wal/"

    public static func targetPrefix(_ target: String) -> String { "wal/\(target)/" }

    public static func systemPrefix(target: String, systemIdentifier: UInt64) -> String {
        "wal/\(target)/\(systemIdentifier)/"
    }

    public static func key(target: String, systemIdentifier: UInt64, file: WalFileName) -> String {
        systemPrefix(target: target, systemIdentifier: systemIdentifier) + "\(file.folder)/\(file)"
    }

    /// The id a WAL object's header is signed for, and its data key bound to: `<system-id>/<file>`.
    public static func documentID(systemIdentifier: UInt64, file: WalFileName) -> String {
        "\(systemIdentifier)/\(file)"
    }

    /// What a key under `wal/` names, or nil when it is not a WAL key drctl writes (readers
    /// ignore such objects).
    public static func parse(_ key: String) -> (target: String, systemIdentifier: UInt64, file: WalFileName)? {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "wal", let file = WalFileName(String(parts[4])),
              let system = parseSystemIdentifier(String(parts[2])), parts[3] == file.folder else { return nil }
        return (String(parts[1]), system, file)
    }

    /// A system identifier as the keys and documents write it: decimal, no leading zeros.
    public static func parseSystemIdentifier(_ text: String) -> UInt64? {
        guard let value = UInt64(text), String(value) == text else { return nil }
        return value
    }
}
