import CCurlShim

/// The libcurl drctl runs on (the S3 store's transport).
public enum LibCurl {
    /// e.g. "7.88.1"; loads libcurl (on first use, Sources/CCurlShim), or says why it cannot.
    public static var version: String {
        if let problem = drctl_libcurl_unavailable() { return "unavailable: \(String(cString: problem))" }
        return String(cString: drctl_curl_version())
    }
}
