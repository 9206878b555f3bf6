/// Multipart uploads left behind (a writer that died, a lost CreateMultipartUpload answer): found
/// and aborted by prune and by a writer's abort.
extension S3ObjectStore {
    public struct PendingUpload: Sendable, Equatable {
        /// Relative to the store's prefix.
        public var key: String
        public var uploadID: String
        /// As S3 reports it (ISO 8601).
        public var initiated: String
    }

    /// Multipart uploads started and neither completed nor aborted, under `prefix`: every page
    /// (S3 answers up to 1000 per page and continues from `NextKeyMarker`/`NextUploadIdMarker`).
    public func pendingUploads(prefix listPrefix: String = "") throws -> [PendingUpload] {
        let client = HTTPClient(settings: settings)
        let base = prefix.isEmpty ? "" : prefix + "/"
        var found: [PendingUpload] = []
        var marker: (key: String, uploadID: String)?
        repeat {
            var query: [(name: String, value: String?)] = [("uploads", nil), ("prefix", base + listPrefix)]
            if let marker { query += [("key-marker", marker.key), ("upload-id-marker", marker.uploadID)] }
            if let listPageSize { query.append(("max-uploads", String(listPageSize))) }
            let root = try listing(client, query: query, answer: "ListMultipartUploadsResult",
                                   operation: "list multipart uploads of", key: listPrefix)
            found += root.all("Upload").compactMap { upload in
                guard let key = upload.value("Key"), key.hasPrefix(base), let id = upload.value("UploadId") else { return nil }
                return PendingUpload(key: String(key.dropFirst(base.count)), uploadID: id,
                                     initiated: upload.value("Initiated") ?? "")
            }
            let previous = marker
            marker = nil
            if root.value("IsTruncated") == "true" {
                guard let key = root.value("NextKeyMarker"), !key.isEmpty else {
                    throw StorageError.io(operation: "list multipart uploads of", key: listPrefix, location: location,
                                          reason: "truncated listing without a NextKeyMarker")
                }
                let next = (key: key, uploadID: root.value("NextUploadIdMarker") ?? "")
                // Markers that do not move would ask for the same page for ever.
                if let previous, previous == next {
                    throw StorageError.io(operation: "list multipart uploads of", key: listPrefix, location: location,
                                          reason: "truncated listing whose markers do not advance")
                }
                marker = next
            }
        } while marker != nil
        return found
    }

    /// Aborts one multipart upload (from `pendingUploads`).
    public func abortUpload(_ upload: PendingUpload) throws {
        let client = HTTPClient(settings: settings)
        let (response, body) = try send(client, method: "DELETE", objectKey: objectKey(upload.key),
                                        query: [("uploadId", upload.uploadID)], operation: "abort the upload of",
                                        key: upload.key)
        if response.status == 404 { return }   // NoSuchUpload: already gone
        _ = try expectSuccess((response, body), operation: "abort the upload of", key: upload.key)
    }
}
