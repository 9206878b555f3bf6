/// The parts of an `http://` or `https://` URL that decide whether it can be reached at all: a
/// host, and a port (when one is given) in 1...65535. libcurl would otherwise find out at the
/// first push or notification, long after `drctl policy validate` said the policy was fine.
enum HTTPURLText {
    /// Why `text` (which starts with `scheme://`) cannot name a server; nil when it can.
    static func problem(_ text: String) -> String? {
        guard let separator = text.range(of: "://") else { return "expected SCHEME://HOST[:PORT]/PATH" }
        let rest = text[separator.upperBound...]
        var authority = rest[..<(rest.firstIndex { "/?#".contains($0) } ?? rest.endIndex)]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        let port: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return "the IPv6 address has no closing ']'" }
            let after = authority[authority.index(after: close)...]
            guard after.isEmpty || after.hasPrefix(":") else { return "unexpected '\(after)' after the IPv6 address" }
            port = after.isEmpty ? nil : after.dropFirst()
            if authority.index(after: authority.startIndex) == close { return "it has no host" }
        } else {
            let colon = authority.lastIndex(of: ":")
            if authority[..<(colon ?? authority.endIndex)].isEmpty { return "it has no host" }
            port = colon.map { authority[authority.index(after: $0)...] }
        }
        guard let port else { return nil }
        guard !port.isEmpty, port.allSatisfy({ $0.isASCII && $0.isNumber }) else { return "port '\(port)' is not a number" }
        guard port.count <= 5, let number = Int(port), (1...65535).contains(number) else {
            return "port \(port) is out of range 1-65535"
        }
        return nil
    }
}
