/// Where members are in a ustar archive (walking its real headers), for tests that change one
/// member's bytes or cut it out.
public enum TarMembers {
    /// The byte offset of member `name`'s header; nil when the archive has no such member.
    public static func header(of name: String, in tar: [UInt8]) -> Int? {
        var offset = 0
        while offset + 512 <= tar.count, tar[offset] != 0 {
            let member = String(decoding: tar[offset..<(offset + 100)].prefix { $0 != 0 }, as: UTF8.self)
            if member == name { return offset }
            guard let size = Int(String(decoding: tar[(offset + 124)..<(offset + 135)], as: UTF8.self), radix: 8) else { return nil }
            offset += 512 + (size + 511) / 512 * 512
        }
        return nil
    }
}
