import DrctlCrypto
import DrctlPipeline
import DrctlSources
import DrctlStorage

public enum DrctlVersion {
    public static let current = "0.1.0"

    /// The C libraries drctl runs on, as loaded at run time.
    public static var libraries: [String: String] {
        [
            "zstd": ZstdInfo.version,
            "openssl": OpenSSLInfo.version,
            "libcurl": LibCurl.version,
            "libpq": LibPQ.version,
        ]
    }
}
