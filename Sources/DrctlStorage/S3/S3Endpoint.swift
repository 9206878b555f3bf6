/// Where an S3 store's requests go: the endpoint URL's scheme, host and port (`http[s]://host[:port]`,
/// an IPv6 literal in brackets), and how a bucket and key are addressed there.
struct S3Endpoint: Sendable {
    let secure: Bool
    let host: String
    let port: Int?
    /// The endpoint as given, without trailing `/`.
    let url: String

    init(_ endpoint: String) throws {
        var rest = Substring(endpoint)
        if rest.hasPrefix("https://") {
            secure = true
            rest = rest.dropFirst(8)
        } else if rest.hasPrefix("http://") {
            secure = false
            rest = rest.dropFirst(7)
        } else {
            throw S3ConfigurationError("endpoint '\(endpoint)' must start with http:// or https://")
        }
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.isEmpty, !rest.contains("/"), !rest.contains("?"), !rest.contains("@") else {
            throw S3ConfigurationError("endpoint '\(endpoint)' must be http[s]://host[:port] without a path")
        }
        // host, host:port, [v6], [v6]:port
        var hostPart = rest
        var portPart: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw S3ConfigurationError("endpoint '\(endpoint)': unterminated IPv6 address")
            }
            hostPart = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portPart = after.dropFirst() }
            else if !after.isEmpty { throw S3ConfigurationError("endpoint '\(endpoint)': bad port") }
        } else if let colon = rest.lastIndex(of: ":") {
            hostPart = rest[..<colon]
            portPart = rest[rest.index(after: colon)...]
        }
        if let portPart {
            guard let value = Int(portPart), (1...65535).contains(value) else {
                throw S3ConfigurationError("endpoint '\(endpoint)': bad port '\(portPart)'")
            }
            port = value
        } else {
            port = nil
        }
        host = String(hostPart)
        url = (secure ? "https://" : "http://") + String(rest)
    }

    /// The `Host` header and the path of `objectKey` in `bucket` (nil: the bucket itself):
    /// `host/bucket/key` (path style) or `bucket.host/key` (virtual-hosted style).
    func address(bucket: String, objectKey: String?, pathStyle: Bool) -> (hostHeader: String, path: String) {
        if pathStyle {
            var path = "/" + bucket
            if let objectKey { path += "/" + objectKey }
            return (SignatureV4.hostHeader(host: host, port: port, secure: secure), path)
        }
        return (SignatureV4.hostHeader(host: bucket + "." + host, port: port, secure: secure), "/" + (objectKey ?? ""))
    }
}

/// A region's endpoint, bucket or part size that cannot work.
public struct S3ConfigurationError: Error, CustomStringConvertible, Equatable {
    public var description: String
    init(_ description: String) { self.description = description }
}
