import CCurlShim

/// The libcurl drctl runs on (the S3 store's transport).
public enum LibCurl {
    /// e.g. "7.88.1".
    public static var version: String { String(cString: drctl_curl_version()) }
}
