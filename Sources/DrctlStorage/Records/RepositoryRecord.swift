import DrctlCrypto
import Foundation

/// A small JSON document stored beside the backups, under `records/<target>/<folder>/<id>.json`
/// (docs/FORMAT.md, "Records"). Records are written once, to every region that takes them,
/// and read from any one: they are history, not state, so a region missing one is not an error.
public protocol RepositoryRecord: Codable, Sendable, RuledRecord, SignableDocument {
    static var formatName: String { get }
    static var currentVersion: Int { get }
    /// The folder under `records/<target>/`: `drills`, `failures`.
    static var folder: String { get }
    /// What a version 2 record is signed as: `drill-record`, `failure-record`.
    static var documentKind: DocumentKind { get }
    var format: String { get }
    var target: String { get }
    /// The record's id (a BackupID-shaped string): its file name, and its sort order.
    var recordID: String { get }
}

extension DrillRecord: RepositoryRecord {
    public static let folder = "drills"
    public static let documentKind = DocumentKind.drillRecord
    public var recordID: String { drillID }
}

extension FailureRecord: RepositoryRecord {
    public static let folder = "failures"
    public static let documentKind = DocumentKind.failureRecord
    public var recordID: String { runID }
}

extension RepositoryLayout {
    public static func recordsPrefix<R: RepositoryRecord>(_ type: R.Type, target: String) -> String {
        "records/\(target)/\(R.folder)/"
    }

    public static func recordKey<R: RepositoryRecord>(_ record: R) -> String {
        recordsPrefix(R.self, target: record.target) + "\(record.recordID).json"
    }
}

extension Repository {
    /// Writes the record to every region; returns the regions that refused it (and why).
    /// Callers log these and go on: a record is never worth failing a run for. In a version 2
    /// repository it is signed with `signingKey` (docs/FORMAT.md, "Records"); without one it
    /// is written nowhere, and every region's error names the key that is missing.
    @discardableResult
    public func write<R: RepositoryRecord>(_ record: R, signedBy signingKey: Result<SigningKey, any Error>) -> [(region: String, error: Error)] {
        let key = RepositoryLayout.recordKey(record)
        let bytes: [UInt8]
        do {
            bytes = try signedDocuments(signingKey: signingKey)
                .stored(record, kind: R.documentKind, target: record.target, id: record.recordID)
        } catch {
            return regions.map { ($0.name, RecordNotSigned(key: key, reason: error)) }
        }
        var failures: [(region: String, error: Error)] = []
        for region in regions {
            do {
                try region.store.put(key, bytes: bytes)
            } catch StorageError.alreadyExists {
                // Written by an earlier attempt (or sync): records are write-once.
            } catch {
                failures.append((region.name, error))
            }
        }
        return failures
    }

    /// One target's records of one type in one region, oldest first, and those the readers'
    /// rules or their authentication refused (each affects only itself). A record that cannot be read (corrupt, newer
    /// format, misplaced) is an error: reports must not silently skip history.
    public func records<R: RepositoryRecord>(_ type: R.Type, target: String, in region: Region) throws
        -> (records: [R], refused: [RepositoryError]) {
        var records: [R] = []
        var refused: [RepositoryError] = []
        let prefix = RepositoryLayout.recordsPrefix(R.self, target: target)
        let listed = try region.store.list(prefix: prefix).filter { $0.key.hasSuffix(".json") }
        for (object, read) in zip(listed, readListed(listed, under: prefix, in: region, limit: Self.recordLimit)) {
            do {
                records.append(try record(R.self, decoding: try read.get(), at: object.key, in: region))
            } catch let error as RepositoryError {
                switch error {
                case .refused, .unauthenticated: refused.append(error)
                default: throw error
                }
            }
        }
        return (records.sorted { $0.recordID < $1.recordID }, refused)
    }

    /// One target's records of one type merged over every readable region (a record lost in
    /// one region is found in another), oldest first. Regions that cannot be listed are
    /// returned beside the records so callers can say the history may be incomplete, and so
    /// are the records the readers' rules refused, for a warning.
    public func mergedRecords<R: RepositoryRecord>(_ type: R.Type, target: String) -> MergedRecords<R> {
        var byID: [String: R] = [:]
        var merged = MergedRecords<R>()
        for region in regions {
            do {
                let listed = try records(R.self, target: target, in: region)
                for record in listed.records where byID[record.recordID] == nil {
                    byID[record.recordID] = record
                }
                merged.refused += listed.refused
            } catch {
                merged.unreadable.append((region.name, error))
            }
        }
        merged.records = byID.values.sorted { $0.recordID < $1.recordID }
        return merged
    }

    static let recordLimit: UInt64 = 4 << 20

    public func record<R: RepositoryRecord>(_ type: R.Type, at key: String, in region: Region) throws -> R {
        try record(R.self, decoding: try region.store.get(key, limit: Self.recordLimit), at: key, in: region)
    }

    /// The record `bytes` read from `key`, checked as `record(_:at:in:)` does.
    func record<R: RepositoryRecord>(_ type: R.Type, decoding bytes: [UInt8], at key: String, in region: Region) throws -> R {
        let record: R
        do {
            record = try ManifestCoding.decoder.decode(R.self, from: Data(bytes))
        } catch {
            throw RepositoryError.unreadable(what: key, region: region.name, reason: "not a valid \(R.formatName): \(error)")
        }
        guard record.format == R.formatName else {
            throw RepositoryError.unreadable(what: key, region: region.name, reason: "format is '\(record.format)'")
        }
        guard record.version <= R.currentVersion else {
            throw RepositoryError.newerFormat(what: key, version: record.version, supported: R.currentVersion, region: region.name)
        }
        guard key == RepositoryLayout.recordKey(record) else {
            throw RepositoryError.unreadable(what: key, region: region.name,
                                             reason: "it is record '\(record.recordID)' of target '\(record.target)', which belongs elsewhere")
        }
        if let violation = record.violation(now: Date()) {
            throw RepositoryError.refused(what: key, region: region.name, reason: violation)
        }
        try authenticate(record, stored: bytes, at: key, in: region)
        return record
    }

    /// Checks a record's authentication (docs/FORMAT.md, "Records"): its key names its target
    /// and id (checked above), which is the address its signature must be for.
    private func authenticate<R: RepositoryRecord>(_ record: R, stored bytes: [UInt8], at key: String, in region: Region) throws {
        let documents: SignedDocuments
        do {
            documents = try signedDocuments(signingKey: .failure(SignedDocuments.ReadOnly()))
        } catch {
            throw RepositoryError.refused(what: key, region: region.name, reason: "\(error)")
        }
        // The readers' rules made sure the id is a drctl id.
        let writtenAt = BackupID(record.recordID)?.startedAt ?? .distantFuture
        if let failure = documents.failure(of: record, stored: bytes, kind: R.documentKind, target: record.target,
                                           id: record.recordID, writtenAt: writtenAt) {
            throw RepositoryError.unauthenticated(what: key, region: region.name, failure: failure)
        }
    }
}

/// A record that was not written because it could not be signed (a version 2 repository, and
/// this host has no signing key): the reason names the key to configure.
public struct RecordNotSigned: Error, CustomStringConvertible {
    public let key: String
    public let reason: any Error

    public var description: String { "'\(key)' not written: the repository is version 2 and the record cannot be signed: \(reason)" }
}

/// One target's records of one type over every region: those read (oldest first), the regions
/// that could not be listed, and the records the readers' rules refused.
public struct MergedRecords<R: RepositoryRecord>: Sendable {
    public var records: [R] = []
    public var unreadable: [(region: String, error: Error)] = []
    public var refused: [RepositoryError] = []
}
