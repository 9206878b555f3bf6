/// What a PostgreSQL restore does instead when the destination cannot honour a database's
/// locale or tablespace: the user's explicit `--locale-map OLD=NEW` and `--tablespace-map
/// OLD=NEW`. Without an entry for it, a property the destination lacks stops the restore
/// before anything is loaded; nothing is ever changed silently.
public struct DatabasePropertyMap: Sendable, Equatable {
    /// Locale names (LOCALE, LC_COLLATE, LC_CTYPE, ICU_LOCALE values) to use instead.
    public var locales: [String: String]
    /// A database's default tablespace to use instead (`pg_default` for the server's default).
    public var tablespaces: [String: String]

    public init(locales: [String: String] = [:], tablespaces: [String: String] = [:]) {
        self.locales = locales
        self.tablespaces = tablespaces
    }

    /// `OLD=NEW` pairs as typed; nil for one that is not of that form.
    public static func pairs(_ texts: [String]) -> [String: String]? {
        var map: [String: String] = [:]
        for text in texts {
            guard let equals = text.firstIndex(of: "=") else { return nil }
            let old = String(text[..<equals]), new = String(text[text.index(after: equals)...])
            guard !old.isEmpty, !new.isEmpty else { return nil }
            map[old] = new
        }
        return map
    }
}
