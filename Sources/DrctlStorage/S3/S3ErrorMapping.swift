/// What S3 answered, or libcurl failed with, as a `StorageError` a person can act on: S3's error
/// documents explained by `S3ErrorResponse`, transport failures named with their fix.
extension S3ObjectStore {
    func transportFailure(_ operation: String, _ key: String, _ error: HTTPError) -> StorageError {
        var code: Int?
        if case .transport(_, let transportCode, _) = error { code = transportCode }
        let what: String
        var advice = ""
        switch code {
        case nil, 1, 3, 5, 6, 7:  // not a transfer; CURLE_UNSUPPORTED_PROTOCOL, _URL_MALFORMAT, _COULDNT_RESOLVE_PROXY/_HOST, _COULDNT_CONNECT
            what = "cannot reach the S3 endpoint"
        case 60, 83, 90, 91:      // CURLE_PEER_FAILED_VERIFICATION, _SSL_ISSUER_ERROR, _SSL_PINNEDPUBKEYNOTMATCH, _SSL_INVALIDCERTSTATUS
            what = "TLS certificate not accepted from the S3 endpoint"
            advice = settings.caFile.map { " (checked against the region's ca_file \($0))" }
                ?? "; if a private authority signed it, name that authority's PEM file in the region's ca_file"
        case 77:                  // CURLE_SSL_CACERT_BADFILE
            what = "cannot load the CA certificates (the region's ca_file \(settings.caFile ?? "unset")) for the S3 endpoint"
        case 35:                  // CURLE_SSL_CONNECT_ERROR
            what = "no TLS connection to the S3 endpoint"
            advice = "; an endpoint without TLS takes an http:// URL"
        default:
            what = "transfer failed with the S3 endpoint"
        }
        return .io(operation: operation, key: key, location: location,
                   reason: "\(what) \(endpoint) (region \(region)): \(error)\(advice)")
    }

    /// Passes a 2xx answer through; anything else becomes the matching `StorageError`.
    func expectSuccess(_ answer: (HTTPResponse, [UInt8]), operation: String, key: String) throws -> (HTTPResponse, [UInt8]) {
        let (response, body) = answer
        guard (200..<300).contains(response.status) else {
            throw failure(operation, key, S3ErrorResponse(status: response.status, body: body))
        }
        return answer
    }

    func failure(_ operation: String, _ key: String, _ error: S3ErrorResponse) -> StorageError {
        if error.code == "NoSuchKey" { return .notFound(key: key, location: location) }
        return .io(operation: operation, key: key, location: location,
                   reason: error.explanation(region: region, bucket: bucket))
    }
}
