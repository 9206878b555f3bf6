import CPostgres

/// The libpq drctl runs on.
public enum LibPQ {
    /// e.g. "15.20".
    public static var version: String {
        let number = Int(PQlibVersion())   // 150020 → 15.20
        return "\(number / 10000).\(number % 10000)"
    }
}
