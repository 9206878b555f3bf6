import DrctlCrypto
import DrctlPipeline
import DrctlSources
import DrctlStorage

public enum DrctlVersion {
    /// The repository's `VERSION` file, compiled in by the VersionFile plugin (Package.swift):
    /// the same string is the Debian package's version (`scripts/package-deb.sh`).
    public static let current = DrctlBuildVersion.value

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
