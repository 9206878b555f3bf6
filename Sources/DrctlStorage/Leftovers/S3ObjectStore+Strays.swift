import Foundation

/// Multipart uploads that were started and neither completed nor aborted (a killed backup, or a
/// CreateMultipartUpload whose answer was lost): S3 keeps, and bills, their parts until aborted.
extension S3ObjectStore: StrayCleaning {
    public func strays(under prefix: String) throws -> [Stray] {
        try pendingUploads(prefix: prefix).map { upload in
            // An upload whose start S3 did not say is treated as just started: kept for now.
            Stray(kind: .unfinishedUpload, key: upload.key, since: Timestamp.parse(upload.initiated) ?? Date(),
                  handle: upload.uploadID)
        }
    }

    public func remove(_ stray: Stray) throws {
        try abortUpload(PendingUpload(key: stray.key, uploadID: stray.handle, initiated: ""))
    }
}
