import Foundation
import Yams

/// Composes a YAML text into a `Node` tree, turning Yams errors into located problems.
///
/// Yams (6.2) rejects a mapping with a duplicate key by throwing for the whole document, which
/// would hide every other problem. So on such an error we find the second occurrence of the key
/// in the text, note it as a problem, rename it to a unique placeholder and compose again; the
/// validator reports the noted duplicates (with their key paths) when it meets the placeholders
/// and otherwise ignores them.
struct YAMLDocument {
    struct Duplicate {
        var key: String
        var line: Int
        var column: Int
        var firstLine: Int
    }

    /// A placeholder inserted on `line` at `column`, `delta` scalars longer than the original key.
    private struct Shift {
        var line: Int
        var column: Int
        var delta: Int
    }

    static let placeholderPrefix = "__drctl_duplicate_"

    var root: Node?
    /// Problems of the text itself (syntax); when non-empty `root` is nil.
    var syntaxProblems: [(line: Int, column: Int, message: String)] = []
    var duplicates: [Int: Duplicate] = [:]
    private var shifts: [Shift] = []

    init(yaml: String) {
        var lines = yaml.split(separator: "\n", omittingEmptySubsequences: false).map { Array(String($0).unicodeScalars) }
        var text = yaml
        for attempt in 0..<500 {
            do {
                root = try Yams.compose(yaml: text)
                return
            } catch let YamlError.duplicatedKeysInMapping(keys, context) {
                let first = context.mark
                guard let key = keys.first,
                      let found = Self.findSecondOccurrence(of: key, firstLine: first.line, firstColumn: first.column, in: lines)
                else {
                    let name = keys.first ?? "?"
                    let (line, column) = original(first.line, first.column)
                    syntaxProblems.append((line, column, "duplicate key '\(name)' in this mapping"))
                    return
                }
                let placeholder = Array("\(Self.placeholderPrefix)\(attempt)__".unicodeScalars)
                let (line, column) = original(found.line, found.column)
                duplicates[attempt] = Duplicate(key: key, line: line, column: column, firstLine: first.line)
                let index = found.line - 1
                let start = found.column - 1
                lines[index].replaceSubrange(start..<(start + found.length), with: placeholder)
                shifts.append(Shift(line: found.line, column: found.column, delta: placeholder.count - found.length))
                text = lines.map { String(String.UnicodeScalarView($0)) }.joined(separator: "\n")
            } catch let error as YamlError {
                syntaxProblems.append(describe(error))
                return
            } catch {
                syntaxProblems.append((0, 0, "cannot parse YAML: \(error)"))
                return
            }
        }
        syntaxProblems.append((0, 0, "too many duplicate keys"))
    }

    /// Converts a position in the (possibly placeholder-edited) text to the original text.
    func original(_ line: Int, _ column: Int) -> (Int, Int) {
        var column = column
        for shift in shifts.reversed() where shift.line == line && column > shift.column {
            column -= shift.delta
        }
        return (line, column)
    }

    func location(of node: Node) -> (line: Int, column: Int) {
        guard let mark = node.mark else { return (0, 0) }
        return original(mark.line, mark.column)
    }

    /// The duplicate a placeholder key stands for.
    func duplicate(forKey key: String) -> Duplicate? {
        guard key.hasPrefix(Self.placeholderPrefix), key.hasSuffix("__"),
              let number = Int(key.dropFirst(Self.placeholderPrefix.count).dropLast(2)) else { return nil }
        return duplicates[number]
    }

    private func describe(_ error: YamlError) -> (Int, Int, String) {
        func text(_ context: YamlError.Context?, _ problem: String) -> String {
            var message = "YAML syntax error: \(problem)"
            if let context, problem.hasPrefix("but ") {
                message = "YAML syntax error: \(context.text), \(problem)"  // Yams' own "expected a single document ..."
            } else if let context {
                message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
            }
            return message
        }
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let (line, column) = original(mark.line, mark.column)
            return (line, column, text(context, problem))
        case let .reader(problem, offset, _, yaml):
            var line = 1, column = 1
            if let offset {
                for character in yaml.prefix(offset) {
                    if character == "\n" || character == "\r\n" { line += 1; column = 1 } else { column += character.unicodeScalars.count }
                }
            }
            return (offset == nil ? 0 : line, offset == nil ? 0 : column, "YAML syntax error: \(problem)")
        default:
            return (0, 0, "cannot parse YAML: \(error)")
        }
    }

    // MARK: - Finding the second occurrence of a duplicate key

    struct Occurrence {
        var line: Int
        var column: Int
        var length: Int
    }

    /// Finds the next key `key` of the mapping whose key at (firstLine, firstColumn) is `key`.
    static func findSecondOccurrence(of key: String, firstLine: Int, firstColumn: Int,
                                     in lines: [[Unicode.Scalar]]) -> Occurrence? {
        guard firstLine >= 1, firstLine <= lines.count else { return nil }
        let line = lines[firstLine - 1]
        let start = firstColumn - 1
        guard start >= 0, start <= line.count, let firstLength = keyLength(key, in: line, at: start) else { return nil }
        // Flow mapping if the key follows `{` or `,` (possibly on an earlier line).
        var previous: Unicode.Scalar?
        var row = firstLine - 1, col = start - 1
        while row >= 0 {
            let scalars = lines[row]
            while col >= 0, scalars[col] == " " || scalars[col] == "\t" || scalars[col] == "\r" { col -= 1 }
            if col >= 0 { previous = scalars[col]; break }
            row -= 1
            if row >= 0 { col = lines[row].count - 1 }
        }
        if previous == "{" || previous == "," {
            return findInFlow(key, afterLine: firstLine - 1, column: start + firstLength, in: lines)
        }
        return findInBlock(key, firstLine: firstLine, column: start, in: lines)
    }

    /// Length in scalars of `key` written at `start` (plain, 'single' or "double" quoted) if it is followed by `:`.
    private static func keyLength(_ key: String, in line: [Unicode.Scalar], at start: Int) -> Int? {
        let keyScalars = Array(key.unicodeScalars)
        for (open, close) in [("", ""), ("\"", "\""), ("'", "'")] as [(String, String)] {
            let token = Array(open.unicodeScalars) + keyScalars + Array(close.unicodeScalars)
            guard start + token.count <= line.count, Array(line[start..<(start + token.count)]) == token else { continue }
            var index = start + token.count
            while index < line.count, line[index] == " " || line[index] == "\t" { index += 1 }
            if index < line.count, line[index] == ":" { return token.count }
        }
        return nil
    }

    private static func findInBlock(_ key: String, firstLine: Int, column: Int, in lines: [[Unicode.Scalar]]) -> Occurrence? {
        var row = firstLine  // the line after the first occurrence (0-based index)
        while row < lines.count {
            let scalars = lines[row]
            row += 1
            guard let indent = scalars.firstIndex(where: { $0 != " " && $0 != "\t" && $0 != "\r" }) else { continue }
            if scalars[indent] == "#" { continue }
            if scalars[indent] == "-" && indent == column { continue }  // a list at the key's indentation
            if indent < column { return nil }
            if indent > column { continue }
            if let length = keyLength(key, in: scalars, at: indent) {
                return Occurrence(line: row, column: indent + 1, length: length)
            }
        }
        return nil
    }

    private static func findInFlow(_ key: String, afterLine: Int, column: Int, in lines: [[Unicode.Scalar]]) -> Occurrence? {
        var depth = 0
        var row = afterLine, col = column
        var quote: Unicode.Scalar?
        var expectKey = false
        while row < lines.count {
            let scalars = lines[row]
            while col < scalars.count {
                let character = scalars[col]
                if let open = quote {
                    if character == open { quote = nil }
                    col += 1
                    continue
                }
                if expectKey && depth == 0 && character != " " && character != "\t" && character != "\r" {
                    expectKey = false
                    if let length = keyLength(key, in: scalars, at: col) {
                        return Occurrence(line: row + 1, column: col + 1, length: length)
                    }
                }
                switch character {
                case "\"", "'": quote = character
                case "{", "[": depth += 1
                case "}", "]":
                    if depth == 0 { return nil }
                    depth -= 1
                case ",": if depth == 0 { expectKey = true }
                case "#": col = scalars.count; continue
                default: break
                }
                col += 1
            }
            row += 1
            col = 0
        }
        return nil
    }
}
