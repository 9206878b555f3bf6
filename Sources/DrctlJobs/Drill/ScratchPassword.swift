/// A password for one scratch server (or a template of one): 16 random bytes as hex, so it
/// needs no escaping in a URL, a config file or SQL.
enum ScratchPassword {
    static func random() -> String {
        (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }
}
