import Foundation
import DrctlStorage

/// Where a cluster's WAL archive ends, for the check that a point-in-time target is not past
/// it: when its newest segment was pushed (the newest any region lists, its authenticated
/// header's `pushed_at`): no commit after that can be replayed. A region that cannot be listed,
/// or whose newest object cannot be read, may hold later WAL than the others: it is named with
/// its error (the restore warns and says so, and a refusal names it), never passed over in silence.
struct ArchiveEnd: Sendable {
    /// A region that could not say where its archive ends, and why.
    struct Unlisted: Sendable, CustomStringConvertible {
        let region: String
        let reason: String
        var description: String { "region \(region) could not be listed (\(reason))" }
    }

    /// nil when no region could say (or none holds a segment).
    let newestPush: Date?
    let unlisted: [Unlisted]

    init(of archive: WalArchive) {
        let regions = archive.repository.regions
        let documents: SignedDocuments
        do {
            documents = try archive.readerDocuments()
        } catch {
            (newestPush, unlisted) = (nil, regions.map { Unlisted(region: $0.name, reason: "\(error)") })
            return
        }
        let prefix = WalLayout.systemPrefix(target: archive.target, systemIdentifier: archive.systemIdentifier)
        // Each region bounded by its read deadline: one that does not answer costs that, not the
        // transfer retries of the restore's reads.
        let answers = BoundedReads.eachRegion(regions) { region in
            Result { () throws -> Date? in
                let bounded = region.bounded()
                let names = try bounded.store.list(prefix: prefix).compactMap { WalLayout.parse($0.key)?.file }.filter { !$0.isHistory }
                guard let last = names.max(), let copy = try archive.copy(of: last, in: bounded, documents: documents) else { return nil }
                copy.reader.cancel()   // the header is all this needs
                return copy.header.pushedAt
            }
        }
        var newest: Date?
        var unlisted: [Unlisted] = []
        for (region, answer) in zip(regions, answers) {
            switch answer {
            case .success(let pushed?): newest = max(newest ?? pushed, pushed)
            case .success(nil): break
            case .failure(let error): unlisted.append(Unlisted(region: region.name, reason: "\(error)"))
            }
        }
        (newestPush, self.unlisted) = (newest, unlisted)
    }
}
