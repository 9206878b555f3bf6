import Foundation

/// The type declarations of drctl's sources, read from the files themselves: enough Swift to
/// know which types conform to `Error`, which declare an exit class, and each enum's cases.
/// Comments and string literals (with their interpolations) are skipped, so braces and words
/// inside them do not count.
struct SwiftDeclarations {
    /// One type declaration or extension: its name from the top level (`WriterTrust.NoWriters`),
    /// its module (the folder under Sources/), what its header says it conforms to, and, for an
    /// enum, the names of its cases.
    struct Declaration {
        let keyword: String
        let name: String
        let module: String
        let file: String
        let conformances: [String]
        var cases: [String] = []
    }

    private(set) var declarations: [Declaration] = []

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every Swift file under Sources/.
    static func ofSources() throws -> SwiftDeclarations {
        let sources = root.appendingPathComponent("Sources")
        var scanned = SwiftDeclarations()
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
        for file in files.sorted(by: { $0.path < $1.path }) {
            let relative = String(file.path.dropFirst(sources.path.count + 1))
            let module = String(relative.split(separator: "/").first!)
            scanned.read(try String(contentsOf: file, encoding: .utf8), module: module, file: "Sources/" + relative)
        }
        return scanned
    }

    mutating func read(_ text: String, module: String, file: String) {
        let tokens = Self.tokens(Self.code(of: text))
        // Open scopes: the declaration index a brace opened, nil for any other brace.
        var scopes: [Int?] = []
        var index = 0
        func qualified(_ name: String) -> String {
            let outer = scopes.compactMap { $0 }.map { declarations[$0].name }
            return (outer + [name]).joined(separator: ".")
        }
        while index < tokens.count {
            let token = tokens[index]
            if token == "{" {
                scopes.append(nil)
            } else if token == "}" {
                _ = scopes.popLast()
            } else if ["struct", "enum", "class", "actor", "protocol", "extension"].contains(token),
                      index + 1 < tokens.count, Self.isIdentifier(tokens[index + 1]),
                      index == 0 || tokens[index - 1] != "." {
                // The name (dotted for an extension), generic parameters, then `: A, B where … {`.
                var cursor = index + 1
                var name = tokens[cursor]
                while cursor + 2 < tokens.count, tokens[cursor + 1] == ".", Self.isIdentifier(tokens[cursor + 2]) {
                    name += "." + tokens[cursor + 2]
                    cursor += 2
                }
                cursor += 1
                var conformances: [String] = []
                var angle = 0, inList = false
                while cursor < tokens.count, tokens[cursor] != "{" || angle > 0 {
                    let part = tokens[cursor]
                    if part == "<" { angle += 1 } else if part == ">" { angle -= 1 }
                    else if angle == 0 && part == ":" { inList = true }
                    else if angle == 0 && part == "where" { inList = false }
                    else if inList && angle == 0 && Self.isIdentifier(part) && (cursor + 1 >= tokens.count || tokens[cursor + 1] != ".") {
                        conformances.append(part)   // the last part of `Swift.Error`
                    }
                    cursor += 1
                }
                if token == "class", ["func", "var", "let"].contains(name) { index += 1; continue }
                // An extension names its type from the top level, minus a module prefix.
                let full = token == "extension" ? Self.dropModule(name) : qualified(name)
                declarations.append(Declaration(keyword: token, name: full, module: module, file: file,
                                                conformances: conformances))
                guard cursor < tokens.count else { break }
                scopes.append(declarations.count - 1)
                index = cursor
            } else if token == "case", let open = scopes.last, let enclosing = open,
                      declarations[enclosing].keyword == "enum" {
                // `case a, b(String), c = "x"` directly inside an enum's braces.
                var cursor = index + 1
                var expectName = true, depth = 0
                while cursor < tokens.count {
                    let part = tokens[cursor]
                    if depth == 0 && (part == "case" || part == "}" || part == "{" || Self.declarationStarts.contains(part)) { break }
                    if part == "(" { depth += 1 } else if part == ")" { depth -= 1 }
                    else if depth == 0 && part == "," { expectName = true }
                    else if depth == 0 && expectName && Self.isIdentifier(part) {
                        declarations[enclosing].cases.append(part)
                        expectName = false
                    }
                    cursor += 1
                }
                index = cursor
                continue
            }
            index += 1
        }
    }

    static let declarationStarts: Set<String> = [
        "public", "internal", "private", "fileprivate", "static", "var", "let", "func", "init", "struct",
        "enum", "class", "indirect", "@", "#", "subscript", "typealias", "mutating", "nonmutating", "deinit",
    ]

    static func dropModule(_ name: String) -> String {
        let parts = name.split(separator: ".")
        if parts.count > 1, parts[0].hasPrefix("Drctl") || parts[0] == "drctl" { return parts.dropFirst().joined(separator: ".") }
        return name
    }

    static func isIdentifier(_ token: String) -> Bool {
        guard let first = token.unicodeScalars.first else { return false }
        return CharacterSet.letters.contains(first) || first == "_"
    }

    /// Words and single punctuation characters.
    static func tokens(_ code: String) -> [String] {
        var tokens: [String] = []
        var word = ""
        for scalar in code.unicodeScalars {
            if CharacterSet.alphanumerics.contains(scalar) || scalar == "_" || (scalar == "`" && !word.isEmpty) {
                if scalar != "`" { word.unicodeScalars.append(scalar) }
                continue
            }
            if !word.isEmpty { tokens.append(word); word = "" }
            if scalar == "`" || CharacterSet.whitespacesAndNewlines.contains(scalar) { continue }
            tokens.append(String(scalar))
        }
        if !word.isEmpty { tokens.append(word) }
        return tokens
    }

    /// The text with comments removed and every string literal emptied (`""`); the code of an
    /// interpolation inside a literal is kept.
    static func code(of text: String) -> String {
        let characters = Array(text.unicodeScalars)
        var output = String.UnicodeScalarView()
        /// A literal being read: its number of `#`s, whether it is `"""`, and for each open
        /// interpolation the depth of parentheses inside it.
        struct Literal { let hashes: Int; let multiline: Bool }
        var literals: [Literal] = []
        var interpolations: [Int] = []   // parenthesis depth of each open interpolation
        var index = 0
        func at(_ offset: Int) -> Unicode.Scalar? { index + offset < characters.count ? characters[index + offset] : nil }
        func matches(_ text: String, from offset: Int = 0) -> Bool {
            for (position, scalar) in text.unicodeScalars.enumerated() where at(offset + position) != scalar { return false }
            return true
        }
        while index < characters.count {
            let inCode = literals.count == interpolations.count
            if inCode {
                if matches("//") {
                    while index < characters.count && characters[index] != "\n" { index += 1 }
                    continue
                }
                if matches("/*") {
                    var depth = 0
                    repeat {
                        if matches("/*") { depth += 1; index += 2 }
                        else if matches("*/") { depth -= 1; index += 2 }
                        else { index += 1 }
                    } while depth > 0 && index < characters.count
                    continue
                }
                var hashes = 0
                while at(hashes) == "#" { hashes += 1 }
                if at(hashes) == "\"" {
                    let multiline = matches("\"\"\"", from: hashes)
                    literals.append(Literal(hashes: hashes, multiline: multiline))
                    index += hashes + (multiline ? 3 : 1)
                    output.append(contentsOf: "\"".unicodeScalars)
                    continue
                }
                let scalar = characters[index]
                if !interpolations.isEmpty {
                    if scalar == "(" { interpolations[interpolations.count - 1] += 1 }
                    if scalar == ")" {
                        interpolations[interpolations.count - 1] -= 1
                        if interpolations.last == 0 { interpolations.removeLast(); index += 1; continue }
                    }
                }
                output.append(scalar)
                index += 1
            } else {
                let literal = literals.last!
                let escape = "\\" + String(repeating: "#", count: literal.hashes)
                if matches(escape) {
                    if at(escape.unicodeScalars.count) == "(" {
                        interpolations.append(1)
                        index += escape.unicodeScalars.count + 1
                    } else {
                        index += escape.unicodeScalars.count + 1
                    }
                    continue
                }
                let closing = (literal.multiline ? "\"\"\"" : "\"") + String(repeating: "#", count: literal.hashes)
                if matches(closing) {
                    literals.removeLast()
                    index += closing.unicodeScalars.count
                    output.append(contentsOf: "\"".unicodeScalars)
                    continue
                }
                if characters[index] == "\n" { output.append("\n") }
                index += 1
            }
        }
        return String(output)
    }
}
