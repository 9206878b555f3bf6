import DrctlCrypto
import Foundation

extension S3ObjectStore {
    /// S3 DeleteObjects takes at most this many keys a request.
    static let deleteBatchSize = 1000

    /// DeleteObjects (`POST ?delete`, with the Content-MD5 S3 requires), 1000 keys a request, in
    /// quiet mode: the answer lists only the keys that could not be deleted (a missing key is not
    /// one of them). The first such key is thrown, after every batch was tried.
    public func delete(keys: [String]) throws {
        try delete(keys: keys, batchSize: Self.deleteBatchSize)
    }

    func delete(keys: [String], batchSize: Int) throws {
        for key in keys { try validate(key) }
        let client = HTTPClient(settings: settings)
        var firstFailure: Error?
        var start = 0
        while start < keys.count {
            let batch = keys[start..<min(start + batchSize, keys.count)]
            start += batch.count
            do {
                try deleteBatch(Array(batch), client: client)
            } catch {
                if firstFailure == nil { firstFailure = error }
            }
        }
        if let firstFailure { throw firstFailure }
    }

    private func deleteBatch(_ keys: [String], client: HTTPClient) throws {
        var xml = "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>"
        for key in keys { xml += "<Object><Key>\(S3XMLElement.escaped(objectKey(key)))</Key></Object>" }
        xml += "</Delete>"
        let body = Array(xml.utf8)
        let label = keys.count == 1 ? keys[0] : "\(keys[0]) and \(keys.count - 1) more"
        let (_, answer) = try expectSuccess(
            send(client, method: "POST", objectKey: nil, query: [("delete", nil)],
                 headers: [("Content-MD5", Data(md5(body)).base64EncodedString()), ("Content-Type", "application/xml")],
                 body: body, operation: "delete", key: label),
            operation: "delete", key: label)
        guard let root = S3XMLElement.parse(answer), root.name == "DeleteResult" else {
            throw StorageError.io(operation: "delete", key: label, location: location,
                                  reason: "the endpoint's answer is not a DeleteResult")
        }
        let base = prefix.isEmpty ? "" : prefix + "/"
        if let error = root.all("Error").first(where: { $0.value("Code") != "NoSuchKey" }) {
            let key = error.value("Key").map { $0.hasPrefix(base) ? String($0.dropFirst(base.count)) : $0 } ?? label
            throw failure("delete", key, S3ErrorResponse(status: 200, code: error.value("Code"), message: error.value("Message")))
        }
    }
}
