/// Reads the XML that S3 and STS answer with into `S3XMLElement`s, in place of Foundation's
/// XMLParser: that one is libxml2's, and libxml2 brought four more shared libraries (ICU's
/// two, zlib, liblzma) into every drctl process, `wal-push`'s start-up among them
/// (BENCHMARKS.md, "wal-push").
///
/// What it reads: an optional XML declaration, comments and processing instructions (skipped),
/// one root element; elements with attributes (read and dropped: names are local names, any
/// `prefix:` removed), empty-element tags, character data with the five predefined entities and
/// character references, CDATA sections. What it refuses (nil): a DOCTYPE (no entity of a
/// document's own is ever expanded), bytes that are not UTF-8, an end tag that does not close
/// the open element, an unknown entity, text or a second element after the root, a document
/// that ends inside an element, elements nested deeper than `maximumDepth`.
struct S3XMLParser {
    /// S3's answers nest four deep, STS's five; libxml2 stopped at 256. A bound keeps the tree
    /// (whose release is recursive) small whatever a server sends.
    static let maximumDepth = 64

    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The root element, or nil if the document is not well formed (see the type).
    mutating func document() -> S3XMLElement? {
        guard String(validating: bytes, as: UTF8.self) != nil else { return nil }
        guard skipMisc() else { return nil }
        guard peek(is: "<"), let root = element() else { return nil }
        guard skipMisc(), index == bytes.count else { return nil }
        return root
    }

    // MARK: Elements

    /// An element from its `<` to the end of its end tag, the open elements on a stack.
    private mutating func element() -> S3XMLElement? {
        var open: [S3XMLElement] = []
        repeat {
            if peek(is: "</") {
                index += 2
                let name = name()
                skipSpace()
                guard let name, take(">"), let closed = open.popLast(), closed.name == name else { return nil }
                if open.isEmpty { return closed }
                open[open.count - 1].children.append(closed)
            } else if peek(is: "<!--") {
                guard skip(past: "-->") else { return nil }
            } else if peek(is: "<![CDATA[") {
                index += 9
                let start = index
                guard skip(past: "]]>"), !open.isEmpty else { return nil }
                open[open.count - 1].text += literal(start..<(index - 3))
            } else if peek(is: "<?") {
                guard skip(past: "?>") else { return nil }
            } else if peek(is: "<!") {
                return nil
            } else if peek(is: "<") {
                index += 1
                guard let name = name(), let empty = attributes() else { return nil }
                let element = S3XMLElement(name: name)
                if !empty {
                    guard open.count < Self.maximumDepth else { return nil }
                    open.append(element)
                } else if open.isEmpty {
                    return element
                } else {
                    open[open.count - 1].children.append(element)
                }
            } else {
                guard !open.isEmpty, let text = characterData() else { return nil }
                open[open.count - 1].text += text
            }
        } while index < bytes.count
        return nil
    }

    /// A name's local part (after any `prefix:`); nil if there is no name here.
    private mutating func name() -> String? {
        let start = index
        while index < bytes.count, !Self.endsName(bytes[index]) { index += 1 }
        guard index > start else { return nil }
        let whole = bytes[start..<index]
        let local = whole.lastIndex(of: UInt8(ascii: ":")).map { whole[($0 + 1)...] } ?? whole
        return local.isEmpty ? nil : String(decoding: local, as: UTF8.self)
    }

    /// The attributes of a start tag, up to and including its `>` or `/>`: true for an
    /// empty-element tag, nil if they are not well formed.
    private mutating func attributes() -> Bool? {
        while true {
            let spaced = skipSpace()
            if take("/>") { return true }
            if take(">") { return false }
            guard spaced, name() != nil else { return nil }
            skipSpace()
            guard take("=") else { return nil }
            skipSpace()
            guard index < bytes.count else { return nil }
            let quote = bytes[index]
            guard quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") else { return nil }
            index += 1
            while index < bytes.count, bytes[index] != quote {
                guard bytes[index] != UInt8(ascii: "<") else { return nil }
                index += 1
            }
            guard take(quote) else { return nil }
        }
    }

    /// Text up to the next `<`, its references resolved; nil at an unknown or broken one.
    private mutating func characterData() -> String? {
        var text = ""
        var start = index
        while index < bytes.count, bytes[index] != UInt8(ascii: "<") {
            guard bytes[index] == UInt8(ascii: "&") else { index += 1; continue }
            text += literal(start..<index)
            guard let end = bytes[index...].firstIndex(of: UInt8(ascii: ";")),
                  let resolved = Self.reference(String(decoding: bytes[(index + 1)..<end], as: UTF8.self)) else { return nil }
            text.unicodeScalars.append(resolved)
            index = end + 1
            start = index
        }
        return text + literal(start..<index)
    }

    /// Bytes of the document as text, its line ends as XML reads them: CR LF and a lone CR
    /// become LF (a CR meant as one comes as `&#13;`).
    private func literal(_ range: Range<Int>) -> String {
        guard bytes[range].contains(0x0D) else { return String(decoding: bytes[range], as: UTF8.self) }
        var normalized: [UInt8] = []
        normalized.reserveCapacity(range.count)
        for position in range where bytes[position] != 0x0D || position + 1 >= range.upperBound || bytes[position + 1] != 0x0A {
            normalized.append(bytes[position] == 0x0D ? 0x0A : bytes[position])
        }
        return String(decoding: normalized, as: UTF8.self)
    }

    /// What `&name;` stands for: a predefined entity or a character reference.
    static func reference(_ name: String) -> Unicode.Scalar? {
        switch name {
        case "amp": return "&"
        case "lt": return "<"
        case "gt": return ">"
        case "quot": return "\""
        case "apos": return "'"
        default:
            let digits: Substring, radix: Int
            if name.hasPrefix("#x") {
                (digits, radix) = (name.dropFirst(2), 16)
            } else if name.hasPrefix("#") {
                (digits, radix) = (name.dropFirst(), 10)
            } else {
                return nil
            }
            guard !digits.isEmpty, digits.allSatisfy({ $0.isHexDigit && (radix == 16 || $0.isNumber) }),
                  let value = UInt32(digits, radix: radix), value != 0 else { return nil }
            return Unicode.Scalar(value)
        }
    }

    // MARK: Between elements

    /// Whitespace, comments, processing instructions (the XML declaration among them); false at
    /// a DOCTYPE or an unterminated one.
    private mutating func skipMisc() -> Bool {
        while true {
            skipSpace()
            if peek(is: "<?") || peek(is: "<!--") {
                guard skip(past: peek(is: "<?") ? "?>" : "-->") else { return false }
            } else {
                return !peek(is: "<!")
            }
        }
    }

    /// Skips whitespace; true if there was any.
    @discardableResult
    private mutating func skipSpace() -> Bool {
        let start = index
        while index < bytes.count, Self.isSpace(bytes[index]) { index += 1 }
        return index > start
    }

    /// Moves past the next `terminator`; false if there is none.
    private mutating func skip(past terminator: String) -> Bool {
        while index < bytes.count {
            if take(terminator) { return true }
            index += 1
        }
        return false
    }

    private func peek(is text: String) -> Bool {
        bytes[index...].starts(with: text.utf8)
    }

    private mutating func take(_ text: String) -> Bool {
        guard peek(is: text) else { return false }
        index += text.utf8.count
        return true
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private static func endsName(_ byte: UInt8) -> Bool {
        isSpace(byte) || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "=")
            || byte == UInt8(ascii: "<") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")
    }
}
