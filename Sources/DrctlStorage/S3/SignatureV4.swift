import DrctlCrypto
import Foundation

/// AWS Signature Version 4 for requests sent in one piece with an `Authorization` header.
///
/// Pure: no I/O and no clock; the caller passes the time. libcurl is only the transport, because
/// libcurl 7.88's own `CURLOPT_AWS_SIGV4` mis-signs unsorted and valueless query parameters,
/// headers whose names share a prefix and requests from which it later drops `Expect:` (DESIGN.md §2).
///
/// The rules implemented here, step by step (each step is `internal` so tests compare it with the
/// intermediate values AWS publishes):
///
/// * **Path** (`canonicalURI`). The caller passes the *decoded* path, e.g. `/bucket/a b/ü`. Each
///   segment is URI-encoded once; `/` separates segments and is never encoded. With `s3PathRules`
///   (the S3 default) the path is otherwise used as it is: no removal of `.`/`..` segments, no
///   collapsing of `//`, because an S3 key may contain them. Without it (other services, and the
///   generic `aws-sig-v4-test-suite`) dot segments and empty segments are removed first. The wire
///   path must be exactly the signed one: build it with `encodedPathAndQuery(path:query:)`, and set
///   `CURLOPT_PATH_AS_IS` so libcurl does not squash dot segments in a key.
/// * **Query** (`canonicalQueryString`). Decoded `(name, value)` pairs; each name and value is
///   URI-encoded (unreserved `A-Z a-z 0-9 - _ . ~` kept, every other byte of the UTF-8 form as `%XX`
///   in upper case, `/` included), then sorted by encoded name and, for equal names, encoded value,
///   comparing bytes. A valueless parameter (`?uploads`, value `nil`) signs as `uploads=`.
/// * **Headers** (`canonicalHeaders`). Names lower-cased; values trimmed and inner runs of spaces or
///   tabs collapsed to one space; values of a repeated name joined with `,` in the order given; sorted
///   by name alone (so `x-amz-meta-a` comes before `x-amz-meta-a-b` and `x-amz-meta-ab`).
///   Which headers are signed: under `Rules.s3` only `host`, `x-amz-*`, `content-md5`, `content-type`,
///   `content-length`, `range` and `date` — headers that libcurl sends exactly as given. Anything
///   else (`Expect`, which libcurl may drop or add, `User-Agent`, `Accept`, `Transfer-Encoding`, …)
///   is sent but not signed, so transport behaviour cannot break a signature. `host` is always signed
///   (from `Request.host`, with `:port` when the port is not the scheme's default — see
///   `hostHeader(host:port:secure:)`), as are `x-amz-date`, `x-amz-content-sha256` and, with a session
///   token, `x-amz-security-token`. A caller's own `Host`, `Authorization` and those `x-amz-*`
///   headers are replaced. If `Content-Length` is passed it is signed, so it must equal what libcurl
///   sends.
public struct SignatureV4: Sendable {
    /// What differs between S3 and the generic Signature V4 that other services (and AWS's generic
    /// test suite) use.
    public struct Rules: Sendable, Equatable {
        /// True: the path is not normalized (see the type's documentation).
        public var s3PathRules: Bool
        /// False: only the S3 allow-list of headers is signed; true: every header passed is signed.
        public var signsAllHeaders: Bool
        /// Add (and sign) `x-amz-content-sha256`, which S3 requires.
        public var sendsContentSHA256: Bool

        public init(s3PathRules: Bool, signsAllHeaders: Bool, sendsContentSHA256: Bool) {
            self.s3PathRules = s3PathRules
            self.signsAllHeaders = signsAllHeaders
            self.sendsContentSHA256 = sendsContentSHA256
        }

        public static let s3 = Rules(s3PathRules: true, signsAllHeaders: false, sendsContentSHA256: true)
        /// As in AWS's generic `aws-sig-v4-test-suite` (service "service").
        public static let generic = Rules(s3PathRules: false, signsAllHeaders: true, sendsContentSHA256: false)
    }

    /// One request, as it will be sent.
    public struct Request: Sendable {
        public var method: String
        /// The `Host` header value as sent, with `:port` when not the default (`hostHeader`).
        public var host: String
        /// Decoded path, starting with `/` (an empty path means `/`).
        public var path: String
        /// Decoded query parameters; a `nil` value is a parameter without `=` (`?uploads`).
        public var query: [(name: String, value: String?)]
        /// Headers the transport sends (any case, repeats allowed); see the rules for which are signed.
        public var headers: [(name: String, value: String)]
        /// Lower-case hex SHA-256 of the body, or `SignatureV4.unsignedPayload`.
        public var payloadSHA256: String

        public init(method: String, host: String, path: String, query: [(name: String, value: String?)] = [],
                    headers: [(name: String, value: String)] = [],
                    payloadSHA256: String = SignatureV4.emptyPayloadSHA256) {
            self.method = method
            self.host = host
            self.path = path
            self.query = query
            self.headers = headers
            self.payloadSHA256 = payloadSHA256
        }
    }

    /// The result of signing, with the intermediate strings for diagnostics (S3 answers a bad
    /// signature with the canonical request and string to sign it computed).
    public struct Signed: Sendable {
        public var canonicalRequest: String
        public var stringToSign: String
        /// `host;x-amz-content-sha256;x-amz-date`, …
        public var signedHeaders: String
        /// Lower-case hex.
        public var signature: String
        public var authorization: String
        /// The headers to add to the request: `Authorization`, `x-amz-date`, `x-amz-content-sha256`
        /// (S3 rules) and `x-amz-security-token` (with a session token). `Host` is not among them: the
        /// transport derives it from the URL, and `Request.host` must equal it.
        public var headers: [(name: String, value: String)]
    }

    public static let algorithm = "AWS4-HMAC-SHA256"
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// SHA-256 of zero bytes.
    public static let emptyPayloadSHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    public let credentials: S3Credentials
    public let region: String
    public let service: String
    public let rules: Rules

    public init(credentials: S3Credentials, region: String, service: String = "s3", rules: Rules = .s3) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.rules = rules
    }

    /// `s3PathRules: false` selects `Rules.generic`.
    public init(credentials: S3Credentials, region: String, service: String = "s3", s3PathRules: Bool) {
        self.init(credentials: credentials, region: region, service: service, rules: s3PathRules ? .s3 : .generic)
    }

    // MARK: Signing

    /// The headers to add to the request (see `Signed.headers`).
    public func sign(method: String, host: String, path: String, query: [(name: String, value: String?)] = [],
                     headers: [(name: String, value: String)] = [], payloadSHA256: String,
                     date: Date) -> [(name: String, value: String)] {
        sign(Request(method: method, host: host, path: path, query: query, headers: headers,
                     payloadSHA256: payloadSHA256), date: date).headers
    }

    public func sign(_ request: Request, date: Date) -> Signed {
        let (amzDate, dateStamp) = Self.timestamps(date)
        let token = credentials.sessionToken

        // The headers that go out: the caller's, minus those this signer owns, plus this signer's.
        var sent: [(name: String, value: String)] = request.headers.filter { header in
            switch Self.lowercased(header.name) {
            case "host", "authorization", "x-amz-date": return false
            case "x-amz-content-sha256": return !rules.sendsContentSHA256
            case "x-amz-security-token": return token == nil
            default: return true
            }
        }
        var added: [(name: String, value: String)] = [("x-amz-date", amzDate)]
        if rules.sendsContentSHA256 { added.append(("x-amz-content-sha256", request.payloadSHA256)) }
        if let token { added.append(("x-amz-security-token", token)) }
        sent.append(("host", request.host))
        sent.append(contentsOf: added)

        let signed = sent.filter { rules.signsAllHeaders || Self.isSignedUnderS3Rules(Self.lowercased($0.name)) }
        let (headerBlock, signedHeaders) = Self.canonicalHeaders(signed)
        let canonical = Self.canonicalRequest(
            method: request.method,
            canonicalURI: Self.canonicalURI(request.path, s3PathRules: rules.s3PathRules),
            canonicalQuery: Self.canonicalQueryString(request.query),
            canonicalHeaders: headerBlock, signedHeaders: signedHeaders, payloadSHA256: request.payloadSHA256)
        let scope = credentialScope(dateStamp: dateStamp)
        let toSign = Self.stringToSign(amzDate: amzDate, scope: scope, canonicalRequest: canonical)
        let signature = hex(hmacSHA256(key: signingKey(dateStamp: dateStamp), data: Array(toSign.utf8)))
        let authorization = "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return Signed(canonicalRequest: canonical, stringToSign: toSign, signedHeaders: signedHeaders,
                      signature: signature, authorization: authorization,
                      headers: [("Authorization", authorization)] + added)
    }

    // MARK: Steps (internal for the tests)

    /// `yyyymmdd/region/service/aws4_request`.
    func credentialScope(dateStamp: String) -> String {
        "\(dateStamp)/\(region)/\(service)/aws4_request"
    }

    /// HMAC chain: "AWS4"+secret → date → region → service → "aws4_request".
    func signingKey(dateStamp: String) -> [UInt8] {
        var key = hmacSHA256(key: Array("AWS4\(credentials.secretAccessKey)".utf8), data: Array(dateStamp.utf8))
        for part in [region, service, "aws4_request"] {
            key = hmacSHA256(key: key, data: Array(part.utf8))
        }
        return key
    }

    static func canonicalRequest(method: String, canonicalURI: String, canonicalQuery: String,
                                 canonicalHeaders: String, signedHeaders: String, payloadSHA256: String) -> String {
        [method, canonicalURI, canonicalQuery, canonicalHeaders, signedHeaders, payloadSHA256].joined(separator: "\n")
    }

    static func stringToSign(amzDate: String, scope: String, canonicalRequest: String) -> String {
        [algorithm, amzDate, scope, hex(sha256(Array(canonicalRequest.utf8)))].joined(separator: "\n")
    }

    /// Header lines (each ending in "\n") and the `;`-joined list of their names.
    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (block: String, signedHeaders: String) {
        var order: [String] = []
        var values: [String: [String]] = [:]
        for (name, value) in headers {
            let name = lowercased(trimmed(name))
            if values[name] == nil { order.append(name) }
            values[name, default: []].append(normalizedValue(value))
        }
        let names = order.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let block = names.map { "\($0):\(values[$0]!.joined(separator: ","))\n" }.joined()
        return (block, names.joined(separator: ";"))
    }

    static func canonicalURI(_ path: String, s3PathRules: Bool) -> String {
        var path = path.hasPrefix("/") ? path : "/" + path
        if !s3PathRules { path = removingDotAndEmptySegments(path) }
        return uriEncode(path, keepingSlash: true)
    }

    static func canonicalQueryString(_ query: [(name: String, value: String?)]) -> String {
        encodedSortedQuery(query).map { "\($0.name)=\($0.value ?? "")" }.joined(separator: "&")
    }

    /// Names and values URI-encoded, sorted by encoded name, then encoded value (bytes; nil as "").
    private static func encodedSortedQuery(_ query: [(name: String, value: String?)]) -> [(name: String, value: String?)] {
        let encoded: [(name: String, value: String?)] = query.map { item in
            (uriEncode(item.name, keepingSlash: false), item.value.map { uriEncode($0, keepingSlash: false) })
        }
        return encoded.sorted { a, b in
            if a.name != b.name { return a.name.utf8.lexicographicallyPrecedes(b.name.utf8) }
            return (a.value ?? "").utf8.lexicographicallyPrecedes((b.value ?? "").utf8)
        }
    }

    /// `host`, `x-amz-*`, `content-md5`, `content-type`, `content-length`, `range`, `date`.
    static func isSignedUnderS3Rules(_ lowercasedName: String) -> Bool {
        switch lowercasedName {
        case "host", "content-md5", "content-type", "content-length", "range", "date": return true
        default: return lowercasedName.hasPrefix("x-amz-")
        }
    }

    /// `x-amz-date` (`20130524T000000Z`) and the date stamp (`20130524`), in UTC.
    static func timestamps(_ date: Date) -> (amzDate: String, dateStamp: String) {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 { secondOfDay += 86_400; days -= 1 }
        // Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil_from_days).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        let stamp = pad(year, 4) + pad(month, 2) + pad(day, 2)
        let time = pad(secondOfDay / 3600, 2) + pad(secondOfDay / 60 % 60, 2) + pad(secondOfDay % 60, 2)
        return (stamp + "T" + time + "Z", stamp)
    }

    // MARK: Helpers for the transport

    /// The `Host` header value libcurl sends for a URL: the port only when it is not the default.
    public static func hostHeader(host: String, port: Int?, secure: Bool) -> String {
        let host = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host  // IPv6 literal
        guard let port, port != (secure ? 443 : 80) else { return host }
        return "\(host):\(port)"
    }

    /// The request target to put in the URL, encoded exactly as signed under S3 rules: path segments
    /// URI-encoded once, the query in canonical order, a valueless parameter without `=`.
    public static func encodedPathAndQuery(path: String, query: [(name: String, value: String?)]) -> String {
        let path = canonicalURI(path, s3PathRules: true)
        guard !query.isEmpty else { return path }
        let items = encodedSortedQuery(query).map { item in
            guard let value = item.value else { return item.name }
            return "\(item.name)=\(value)"
        }
        return path + "?" + items.joined(separator: "&")
    }

    /// Splits a raw query string (without `?`) into decoded pairs: `&`-separated, split at the first
    /// `=`, `%XX` decoded; `+` stays `+` (AWS does not treat it as a space). A piece without `=` has a
    /// `nil` value.
    public static func parseQuery(_ raw: String) -> [(name: String, value: String?)] {
        raw.split(separator: "&", omittingEmptySubsequences: true).map { piece in
            guard let eq = piece.firstIndex(of: "=") else { return (percentDecoded(piece), nil) }
            return (percentDecoded(piece[..<eq]), percentDecoded(piece[piece.index(after: eq)...]))
        }
    }

    // MARK: Private

    private static let upperHex = Array("0123456789ABCDEF".utf8)

    /// AWS `UriEncode`: unreserved bytes kept, everything else `%XX` (upper case), `/` kept on request.
    static func uriEncode(_ string: String, keepingSlash: Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(string.utf8.count)
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
                 UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(byte)
            case UInt8(ascii: "/") where keepingSlash:
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), upperHex[Int(byte >> 4)], upperHex[Int(byte & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// RFC 3986 dot-segment removal plus dropping empty segments; keeps a trailing slash.
    private static func removingDotAndEmptySegments(_ path: String) -> String {
        let raw = path.split(separator: "/", omittingEmptySubsequences: false)
        var kept: [Substring] = []
        for segment in raw {
            switch segment {
            case "", ".": continue
            case "..": _ = kept.popLast()
            default: kept.append(segment)
            }
        }
        guard !kept.isEmpty else { return "/" }
        let last = raw.last ?? ""
        let trailingSlash = last.isEmpty || last == "." || last == ".."
        return "/" + kept.joined(separator: "/") + (trailingSlash ? "/" : "")
    }

    private static func percentDecoded(_ text: Substring) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count,
               let high = hexValue(bytes[i + 1]), let low = hexValue(bytes[i + 2]) {
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// ASCII lower case (header names are ASCII; no locale involved).
    static func lowercased(_ name: String) -> String {
        String(decoding: name.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }

    private static func trimmed(_ text: String) -> String {
        let bytes = Array(text.utf8)
        guard let first = bytes.firstIndex(where: { !isBlank($0) }),
              let last = bytes.lastIndex(where: { !isBlank($0) }) else { return "" }
        return String(decoding: bytes[first...last], as: UTF8.self)
    }

    /// Trimmed, with each run of spaces and tabs inside turned into one space.
    static func normalizedValue(_ value: String) -> String {
        var out: [UInt8] = []
        var pendingBlank = false
        for byte in trimmed(value).utf8 {
            if isBlank(byte) {
                pendingBlank = true
            } else {
                if pendingBlank { out.append(UInt8(ascii: " ")); pendingBlank = false }
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
