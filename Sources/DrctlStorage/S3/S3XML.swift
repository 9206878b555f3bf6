/// A parsed S3 XML document: just elements, their text and children (S3 uses no attributes
/// that matter to us). Namespaces are ignored: names are local names.
struct S3XMLElement: Sendable, Equatable {
    var name: String
    /// The character data directly inside the element (entities and CDATA resolved), its
    /// children's excluded; whitespace between children included, as XML has it.
    var text: String = ""
    var children: [S3XMLElement] = []

    /// The first child named `name`.
    func child(_ name: String) -> S3XMLElement? { children.first { $0.name == name } }
    /// Every child named `name`.
    func all(_ name: String) -> [S3XMLElement] { children.filter { $0.name == name } }
    /// The text of the first child named `name`.
    func value(_ name: String) -> String? { child(name)?.text }

    /// Parses `bytes` (UTF-8); nil if they are not a well-formed XML document of the subset
    /// S3 and STS answer with (`S3XMLParser`).
    static func parse(_ bytes: [UInt8]) -> S3XMLElement? {
        var parser = S3XMLParser(bytes)
        return parser.document()
    }

    /// Escapes text for element content.
    static func escaped(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }
}
