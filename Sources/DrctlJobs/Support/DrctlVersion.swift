import CCurlShim
import CPostgres
import DrctlCrypto
import DrctlPipeline

public enum DrctlVersion {
    public static let current = "0.1.0"

    /// The C libraries drctl runs on, as loaded at run time.
    public static var libraries: [String: String] {
        [
            "zstd": ZstdInfo.version,
            "openssl": OpenSSLInfo.version,
            "libcurl": String(cString: drctl_curl_version()),
            "libpq": libpqVersion,
        ]
    }

    private static var libpqVersion: String {
        let number = Int(PQlibVersion())   // e.g. 150020 → 15.20
        return "\(number / 10000).\(number % 10000)"
    }
}
