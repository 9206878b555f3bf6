import CPostgres

/// The libpq drctl runs on.
public enum LibPQ {
    /// e.g. "15.20"; loads libpq (on first use, Sources/CPostgres), or says why it cannot.
    public static var version: String {
        if let problem = drctl_libpq_unavailable() { return "unavailable: \(String(cString: problem))" }
        let number = Int(PQlibVersion())   // 150020 → 15.20
        return "\(number / 10000).\(number % 10000)"
    }
}
