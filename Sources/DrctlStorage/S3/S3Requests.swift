import DrctlCrypto
import Foundation

/// Building and signing one S3 request, and sending it once (retries: `S3Retry.swift`).
extension S3ObjectStore {
    /// The key in the bucket.
    func objectKey(_ key: String) -> String {
        prefix.isEmpty ? key : prefix + "/" + key
    }

    /// One attempt of `send` (`S3Retry.swift`), the body collected up to `limit` bytes; transport
    /// errors are thrown as `HTTPError`.
    func sendOnce(_ client: HTTPClient, method: String, objectKey: String?,
                  query: [(name: String, value: String?)], headers: [(String, String)],
                  body: [UInt8], payloadSHA256: String?, limit: Int, reserve: Int,
                  operation: String, key: String) throws -> (HTTPResponse, [UInt8]) {
        var collected: [UInt8] = []
        collected.reserveCapacity(reserve)
        let response = try send(client, method: method, objectKey: objectKey, query: query, headers: headers,
                                body: body, payloadSHA256: payloadSHA256, operation: operation, key: key,
                                wrapTransportErrors: false) { piece in
            guard collected.count + piece.count <= limit else {
                throw StorageError.io(operation: operation, key: key, location: location,
                                      reason: "answer larger than \(limit) bytes")
            }
            collected.append(contentsOf: piece)
        }
        return (response, collected)
    }

    /// Builds one request (addressed by `address`, signed with `SignatureV4` and the current
    /// credentials) and sends it once, streaming the response body to `onBody`.
    func send(_ client: HTTPClient, method: String, objectKey: String?,
              query: [(name: String, value: String?)] = [], headers: [(String, String)] = [],
              body: [UInt8] = [], payloadSHA256: String? = nil, operation: String, key: String,
              wrapTransportErrors: Bool = true, onBody: (UnsafeRawBufferPointer) throws -> Void) throws -> HTTPResponse {
        let (hostHeader, path) = address.address(bucket: bucket, objectKey: objectKey, pathStyle: pathStyle)
        let payload = payloadSHA256 ?? (body.isEmpty ? SignatureV4.emptyPayloadSHA256 : hex(sha256(body)))
        let current: S3Credentials
        do {
            current = try credentials.current()
        } catch {
            throw StorageError.io(operation: operation, key: key, location: location,
                                  reason: "cannot renew the S3 credentials (region \(region)): \(error)")
        }
        let signer = SignatureV4(credentials: current, region: region)
        let signed = signer.sign(method: method, host: hostHeader, path: path, query: query,
                                 headers: headers.map { (name: $0.0, value: $0.1) },
                                 payloadSHA256: payload, date: Date())
        let url = (secure ? "https://" : "http://") + hostHeader
            + SignatureV4.encodedPathAndQuery(path: path, query: query)
        let request = HTTPRequest(method: method, url: url,
                                  headers: headers + signed.map { ($0.name, $0.value) },
                                  body: HTTPRequestBody(bytes: body))
        do {
            return try client.perform(request, onBody: onBody)
        } catch let error as HTTPError where wrapTransportErrors {
            throw transportFailure(operation, key, error)
        }
    }
}
