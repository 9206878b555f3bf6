/// A position in PostgreSQL's write-ahead log: a 64-bit byte offset, written as PostgreSQL
/// writes it, two hex numbers of the high and low 32 bits (`0/3000100`, `1A/2B`).
public struct LSN: Sendable, Hashable, Comparable, CustomStringConvertible, LosslessStringConvertible {
    public let value: UInt64

    public init(_ value: UInt64) { self.value = value }

    /// Parses `X/X` (1 to 8 hex digits each side, either case); nil for anything else.
    public init?(_ text: String) {
        let halves = text.split(separator: "/", omittingEmptySubsequences: false)
        guard halves.count == 2,
              halves.allSatisfy({ (1...8).contains($0.count) && $0.allSatisfy(\.isHexDigit) }),
              let high = UInt64(halves[0], radix: 16), let low = UInt64(halves[1], radix: 16) else { return nil }
        value = high << 32 | low
    }

    /// `X/X` in upper case without leading zeros, as PostgreSQL prints it.
    public var description: String {
        String(value >> 32, radix: 16, uppercase: true) + "/" + String(value & 0xFFFF_FFFF, radix: 16, uppercase: true)
    }

    public static func < (lhs: LSN, rhs: LSN) -> Bool { lhs.value < rhs.value }
}
