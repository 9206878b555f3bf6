/// The `CREATE DATABASE` statement pg_dump writes into every archive (the DATABASE entry,
/// run by pg_restore only with `--create`), read into its clauses: what a destination server
/// must honour before a restore loads anything into it.
///
/// pg_dump (15) writes it as
/// `CREATE DATABASE name WITH TEMPLATE = template0 ENCODING = 'LATIN1' LOCALE_PROVIDER = libc
/// LOCALE = 'C' [ICU_LOCALE = '…'] [TABLESPACE = ts];` (or `LC_COLLATE = '…' LC_CTYPE = '…'`
/// when they differ); the owner, comment, settings and privileges are separate entries.
public struct DatabaseDefinition: Sendable, Equatable {
    public struct Clause: Sendable, Equatable {
        public let key: String
        public var value: String
        /// A string literal ('…'); otherwise a word or identifier (template0, libc, a tablespace).
        public let isLiteral: Bool
    }

    public let name: String
    public private(set) var clauses: [Clause]

    public enum Failure: Error, CustomStringConvertible, Equatable {
        case unexpected(String)

        public var description: String {
            switch self {
            case .unexpected(let statement): return "not a CREATE DATABASE statement drctl can read: \(statement.prefix(200))"
            }
        }
    }

    /// Reads `sql`, the definition of `name`'s DATABASE entry.
    public init(parsing sql: String, name: String) throws {
        var tokens = try Self.tokens(sql)
        guard tokens.count >= 3, tokens[0].text.uppercased() == "CREATE", tokens[1].text.uppercased() == "DATABASE" else {
            throw Failure.unexpected(sql)
        }
        self.name = name
        tokens.removeFirst(3)   // CREATE DATABASE name
        if tokens.first?.text.uppercased() == "WITH" { tokens.removeFirst() }
        var clauses: [Clause] = []
        while !tokens.isEmpty {
            guard tokens.count >= 3, tokens[1].text == "=", !tokens[0].isLiteral else { throw Failure.unexpected(sql) }
            clauses.append(Clause(key: tokens[0].text.uppercased(), value: tokens[2].text, isLiteral: tokens[2].isLiteral))
            tokens.removeFirst(3)
        }
        self.clauses = clauses
    }

    public func value(_ key: String) -> String? {
        clauses.first { $0.key == key }?.value
    }

    /// The locale names it asks for (LOCALE, LC_COLLATE, LC_CTYPE, ICU_LOCALE), with their keys.
    public var locales: [Clause] {
        clauses.filter { Self.localeKeys.contains($0.key) }
    }

    public var tablespace: String? { value("TABLESPACE") }

    static let localeKeys: Set<String> = ["LOCALE", "LC_COLLATE", "LC_CTYPE", "ICU_LOCALE"]

    /// The same database with locale names and its tablespace replaced as the maps say.
    public func mapped(locales localeMap: [String: String], tablespaces tablespaceMap: [String: String]) -> DatabaseDefinition {
        var copy = self
        for index in copy.clauses.indices {
            let clause = copy.clauses[index]
            if Self.localeKeys.contains(clause.key), let new = localeMap[clause.value] {
                copy.clauses[index].value = new
            } else if clause.key == "TABLESPACE", let new = tablespaceMap[clause.value] {
                copy.clauses[index].value = new
            }
        }
        return copy
    }

    /// The statement that creates it as `name` (a probe may use another name).
    public func statement(as name: String? = nil) -> String {
        let with = clauses.map { clause in
            let value = clause.isLiteral ? quoteLiteral(clause.value)
                : clause.value.allSatisfy(\.isNumber) ? clause.value : quoteIdentifier(clause.value)
            return "\(clause.key) = \(value)"
        }
        return "CREATE DATABASE \(quoteIdentifier(name ?? self.name)) WITH " + with.joined(separator: " ")
    }

    /// For messages: the clauses as key 'value', without the template.
    public var summary: String {
        clauses.filter { $0.key != "TEMPLATE" }.map { "\($0.key) '\($0.value)'" }.joined(separator: ", ")
    }

    private struct Token {
        let text: String
        let isLiteral: Bool
    }

    /// Words, `=`, 'literals' ('' inside) and "identifiers" ("" inside); a final `;` ends it.
    private static func tokens(_ sql: String) throws -> [Token] {
        var tokens: [Token] = []
        var characters = Array(sql)[...]
        func quoted(_ quote: Character) throws -> String {
            var text = ""
            characters.removeFirst()
            while let character = characters.popFirst() {
                if character == quote {
                    guard characters.first == quote else { return text }
                    characters.removeFirst()
                }
                text.append(character)
            }
            throw Failure.unexpected(sql)
        }
        while let character = characters.first {
            if character.isWhitespace {
                characters.removeFirst()
            } else if character == ";" {
                characters.removeFirst()
                guard characters.allSatisfy(\.isWhitespace) else { throw Failure.unexpected(sql) }
            } else if character == "=" {
                characters.removeFirst()
                tokens.append(Token(text: "=", isLiteral: false))
            } else if character == "'" {
                tokens.append(Token(text: try quoted("'"), isLiteral: true))
            } else if character == "\"" {
                tokens.append(Token(text: try quoted("\""), isLiteral: false))
            } else {
                let word = characters.prefix { !$0.isWhitespace && $0 != "=" && $0 != ";" && $0 != "'" && $0 != "\"" }
                characters.removeFirst(word.count)
                tokens.append(Token(text: String(word), isLiteral: false))
            }
        }
        return tokens
    }
}
