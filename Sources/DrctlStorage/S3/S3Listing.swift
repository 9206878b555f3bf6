/// Listing a prefix with ListObjectsV2, page after page (`continuation-token`).
extension S3ObjectStore {
    public func list(prefix listPrefix: String) throws -> [ObjectInfo] {
        let client = HTTPClient(settings: settings)
        let base = prefix.isEmpty ? "" : prefix + "/"
        var found: [ObjectInfo] = []
        var token: String?
        repeat {
            var query: [(name: String, value: String?)] = [("list-type", "2"), ("prefix", base + listPrefix)]
            if let token { query.append(("continuation-token", token)) }
            if let listPageSize { query.append(("max-keys", String(listPageSize))) }
            let root = try listing(client, query: query, answer: "ListBucketResult", operation: "list", key: listPrefix)
            for item in root.all("Contents") {
                guard let full = item.value("Key"), full.hasPrefix(base),
                      let size = item.value("Size").flatMap({ UInt64($0) }) else { continue }
                found.append(ObjectInfo(key: String(full.dropFirst(base.count)), size: size, etag: item.value("ETag")))
            }
            token = root.value("IsTruncated") == "true" ? root.value("NextContinuationToken") : nil
            if root.value("IsTruncated") == "true" && token == nil {
                throw StorageError.io(operation: "list", key: listPrefix, location: location,
                                      reason: "truncated listing without a continuation token")
            }
        } while token != nil
        return found.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    }

    /// One page of a bucket listing: a GET of the bucket whose XML answer must be `answer`.
    func listing(_ client: HTTPClient, query: [(name: String, value: String?)], answer: String,
                 operation: String, key: String) throws -> S3XMLElement {
        let (_, body) = try expectSuccess(send(client, method: "GET", objectKey: nil, query: query, operation: operation, key: key),
                                          operation: operation, key: key)
        guard let root = S3XMLElement.parse(body), root.name == answer else {
            throw StorageError.io(operation: operation, key: key, location: location,
                                  reason: "the endpoint's answer is not a \(answer)")
        }
        return root
    }
}
