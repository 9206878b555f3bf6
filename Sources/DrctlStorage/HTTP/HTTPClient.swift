import CCurlShim
import Foundation

/// One HTTP request at a time over libcurl, on the calling thread (a pipeline or region
/// thread: libcurl blocks). libcurl is the transport only: the caller builds and signs the
/// request (S3 Signature V4), so what is signed is exactly what is sent.
///
/// Not thread-safe; a client keeps its connection open between requests.
public final class HTTPClient {
    /// nil when libcurl cannot be loaded (`unavailable` says why): every `perform` then throws.
    private let curl: UnsafeMutableRawPointer?
    private let unavailable: String?
    private var handle: UnsafeMutableRawPointer { curl! }   // only used past `perform`'s check
    /// libcurl's account of a failed transfer (CURLOPT_ERRORBUFFER, CURL_ERROR_SIZE bytes): which
    /// certificate check failed, which host refused, where `curl_easy_strerror` only names the code.
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: 256)
    public let settings: HTTPSettings
    /// When set and cancelled, a running or later transfer fails with `HTTPError.cancelled`.
    public let cancellation: HTTPCancellation?

    public init(settings: HTTPSettings = HTTPSettings(), cancellation: HTTPCancellation? = nil) {
        // libcurl is loaded on first use (Sources/CCurlShim): a missing one fails each transfer.
        if let problem = drctl_libcurl_unavailable() {
            curl = nil
            unavailable = String(cString: problem)
        } else {
            HTTPClient.globalInit
            guard let handle = curl_easy_init() else { fatalError("curl_easy_init failed: out of memory") }
            curl = handle
            unavailable = nil
        }
        self.settings = settings
        self.cancellation = cancellation
    }

    deinit {
        if let curl { curl_easy_cleanup(curl) }
        errorBuffer.deallocate()
    }

    /// Sends `request`; the response body is handed to `onBody` piece by piece (a throw there
    /// aborts the transfer and is rethrown).
    public func perform(_ request: HTTPRequest,
                        onBody: (UnsafeRawBufferPointer) throws -> Void) throws -> HTTPResponse {
        if let unavailable { throw HTTPError.transport(url: request.url, code: Int(CURLE_FAILED_INIT.rawValue), message: unavailable) }
        curl_easy_reset(handle)
        return try withoutActuallyEscaping(onBody) { onBody in
            try perform(request, exchange: Exchange(body: request.body, onBody: onBody, cancellation: cancellation))
        }
    }

    private func perform(_ request: HTTPRequest, exchange: Exchange) throws -> HTTPResponse {
        try withExtendedLifetime(exchange) {
            let context = Unmanaged.passUnretained(exchange).toOpaque()
            var headers: UnsafeMutablePointer<curl_slist>? = nil
            defer { curl_slist_free_all(headers) }
            // libcurl adds "Expect: 100-continue" to uploads unless told otherwise; it is not
            // signed, and a round trip per part is slow.
            for (name, value) in request.headers + [("Expect", "")] {
                headers = curl_slist_append(headers, "\(name): \(value)")
            }
            try setup(request, headers: headers, context: context)
            if cancellation?.isCancelled == true { throw HTTPError.cancelled(url: request.url) }
            let code = curl_easy_perform(handle)
            if let thrown = exchange.thrown { throw thrown }
            if code == CURLE_ABORTED_BY_CALLBACK, cancellation?.isCancelled == true {
                throw HTTPError.cancelled(url: request.url)
            }
            guard code == CURLE_OK else {
                let detail = String(cString: errorBuffer)
                throw HTTPError.transport(url: request.url, code: Int(code.rawValue),
                                          message: detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail)
            }
            var status = 0
            _ = drctl_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
            return HTTPResponse(status: status, headers: exchange.responseHeaders)
        }
    }

    /// Sends `request` and collects a response body of at most `limit` bytes.
    public func perform(_ request: HTTPRequest, limit: Int = 16 << 20) throws -> (HTTPResponse, [UInt8]) {
        var body: [UInt8] = []
        let response = try perform(request) { piece in
            guard body.count + piece.count <= limit else {
                throw HTTPError.responseTooLarge(url: request.url, limit: limit)
            }
            body.append(contentsOf: piece)
        }
        return (response, body)
    }

    private func setup(_ request: HTTPRequest, headers: UnsafeMutablePointer<curl_slist>?,
                       context: UnsafeMutableRawPointer) throws {
        func check(_ code: CURLcode, _ option: String) throws {
            guard code == CURLE_OK else {
                throw HTTPError.transport(url: request.url, code: Int(code.rawValue),
                                          message: "\(option): \(String(cString: curl_easy_strerror(code)))")
            }
        }
        try check(drctl_curl_setopt_string(handle, CURLOPT_URL, request.url), "URL")
        errorBuffer[0] = 0
        try check(drctl_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer), "ERRORBUFFER")
        // The path goes out as given (and as signed): no squashing of `.`/`..` segments.
        try check(drctl_curl_setopt_long(handle, CURLOPT_PATH_AS_IS, 1), "PATH_AS_IS")
        try check(drctl_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1), "NOSIGNAL")
        try check(drctl_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headers), "HTTPHEADER")
        try check(drctl_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, settings.connectTimeout), "CONNECTTIMEOUT")
        // A transfer slower than 1 byte/s for `stallTimeout` seconds is a stall.
        try check(drctl_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1), "LOW_SPEED_LIMIT")
        try check(drctl_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, settings.stallTimeout), "LOW_SPEED_TIME")
        if let caFile = settings.caFile { try check(drctl_curl_setopt_string(handle, CURLOPT_CAINFO, caFile), "CAINFO") }
        if settings.insecureSkipTLSVerify {
            try check(drctl_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 0), "SSL_VERIFYPEER")
            try check(drctl_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 0), "SSL_VERIFYHOST")
        }
        if cancellation != nil {
            try check(drctl_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0), "NOPROGRESS")
            try check(drctl_curl_setopt_xferinfo_callback(handle, HTTPClient.progress), "XFERINFOFUNCTION")
            try check(drctl_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, context), "XFERINFODATA")
        }
        try check(drctl_curl_setopt_write_callback(handle, HTTPClient.writeBody), "WRITEFUNCTION")
        try check(drctl_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context), "WRITEDATA")
        try check(drctl_curl_setopt_header_callback(handle, HTTPClient.writeHeader), "HEADERFUNCTION")
        try check(drctl_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context), "HEADERDATA")
        switch request.method {
        case "GET": break
        case "HEAD": try check(drctl_curl_setopt_long(handle, CURLOPT_NOBODY, 1), "NOBODY")
        case "PUT", "POST":
            // UPLOAD sends a body of exactly the declared size, from the read callback.
            try check(drctl_curl_setopt_long(handle, CURLOPT_UPLOAD, 1), "UPLOAD")
            try check(drctl_curl_setopt_offset(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(request.body.size)), "INFILESIZE")
            try check(drctl_curl_setopt_read_callback(handle, HTTPClient.readBody), "READFUNCTION")
            try check(drctl_curl_setopt_pointer(handle, CURLOPT_READDATA, context), "READDATA")
            if request.method == "POST" {
                try check(drctl_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, "POST"), "CUSTOMREQUEST")
            }
        default:
            try check(drctl_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method), "CUSTOMREQUEST")
        }
    }

    // C callbacks: non-capturing, context through the user pointer.

    private static let writeBody: curl_write_callback = { data, size, count, context in
        let exchange = Unmanaged<Exchange>.fromOpaque(context!).takeUnretainedValue()
        let length = size * count
        do {
            try exchange.onBody(UnsafeRawBufferPointer(start: data, count: length))
            return length
        } catch {
            exchange.thrown = error
            return 0   // anything but `length` aborts the transfer
        }
    }

    private static let writeHeader: curl_write_callback = { data, size, count, context in
        let exchange = Unmanaged<Exchange>.fromOpaque(context!).takeUnretainedValue()
        let length = size * count
        let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            exchange.responseHeaders = []   // a new response (after a 100 Continue, a redirect)
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
            exchange.responseHeaders.append((name, value))
        }
        return length
    }

    /// Called by libcurl at least once a second during a transfer: non-zero aborts it.
    private static let progress: curl_xferinfo_callback = { context, _, _, _, _ in
        let exchange = Unmanaged<Exchange>.fromOpaque(context!).takeUnretainedValue()
        return exchange.cancellation?.isCancelled == true ? 1 : 0
    }

    private static let readBody: curl_read_callback = { buffer, size, count, context in
        let exchange = Unmanaged<Exchange>.fromOpaque(context!).takeUnretainedValue()
        do {
            return try exchange.body.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: size * count))
        } catch {
            exchange.thrown = error
            return Int(CURL_READFUNC_ABORT)
        }
    }

    private static let globalInit: Void = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }()
}

/// What one `perform` needs inside libcurl's callbacks.
private final class Exchange {
    let body: HTTPRequestBody
    let onBody: (UnsafeRawBufferPointer) throws -> Void
    var responseHeaders: [(String, String)] = []
    let cancellation: HTTPCancellation?
    var thrown: Error?

    init(body: HTTPRequestBody, onBody: @escaping (UnsafeRawBufferPointer) throws -> Void,
         cancellation: HTTPCancellation?) {
        self.body = body
        self.onBody = onBody
        self.cancellation = cancellation
    }
}
