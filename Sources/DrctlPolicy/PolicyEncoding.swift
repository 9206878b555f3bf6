import Foundation

/// A policy file's bytes as text. It must be UTF-8; if it is not, the problem names the line and
/// column of the first byte that is not (counted like every other problem's: lines from 1,
/// columns in Unicode scalars from 1), so a stray Latin-1 "é" can be found.
enum PolicyEncoding {
    static func text(of data: Data, file: String) throws(PolicyError) -> String {
        let bytes = [UInt8](data)
        guard let bad = firstInvalid(in: bytes) else { return String(decoding: bytes, as: UTF8.self) }
        let lineStart = bytes[..<bad.offset].lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
        let line = bytes[..<bad.offset].count(where: { $0 == 0x0A }) + 1
        let column = String(decoding: bytes[lineStart..<bad.offset], as: UTF8.self).unicodeScalars.count + 1
        let byte = "0x" + String(bytes[bad.offset], radix: 16, uppercase: true)
        let what = bad.lead ? "starts a character that is invalid or cut short" : "cannot start or continue a character"
        throw PolicyError(problems: [PolicyProblem(file: file, line: line, column: column, keyPath: "",
                                                   message: "not UTF-8 text: byte \(byte) \(what) (save the policy as UTF-8)")])
    }

    /// The offset of the first byte that is not part of a valid UTF-8 sequence; `lead` when it
    /// starts a sequence whose following bytes are missing or wrong (overlong forms, surrogates
    /// and values past U+10FFFF included).
    static func firstInvalid(in bytes: [UInt8]) -> (offset: Int, lead: Bool)? {
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            let length: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF   // the allowed range of the second byte
            switch byte {
            case 0x00...0x7F: index += 1; continue
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xED: length = 3; high = 0x9F
            case 0xE1...0xEF: length = 3
            case 0xF0: length = 4; low = 0x90
            case 0xF4: length = 4; high = 0x8F
            case 0xF1...0xF3: length = 4
            default: return (index, false)
            }
            guard index + length <= bytes.count, (low...high).contains(bytes[index + 1]),
                  bytes[(index + 2)..<(index + length)].allSatisfy({ (0x80...0xBF).contains($0) }) else {
                return (index, true)
            }
            index += length
        }
        return nil
    }
}
