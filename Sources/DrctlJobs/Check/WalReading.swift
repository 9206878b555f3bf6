import Foundation
import DrctlStorage

/// What `check` reads of a physical target's WAL archive in one region: how many files it
/// holds, and its newest (by name: timelines, then segments, sort that way), whose header is
/// read and authenticated for the time it was archived.
struct WalReading: Sendable {
    var region: String
    var files = 0
    var newest: String?
    var systemIdentifier: UInt64?
    var archivedAt: Date?
    var error: String?

    init(_ target: String, in region: Region, of repository: Repository) {
        self.region = region.name
        do {
            let archived = try region.store.list(prefix: WalLayout.targetPrefix(target)).compactMap { WalLayout.parse($0.key) }
            files = archived.count
            guard let newest = archived.max(by: { $0.file < $1.file }) else { return }
            self.newest = newest.file.description
            systemIdentifier = newest.systemIdentifier
            let archive = WalArchive(repository: repository.with(regions: [region]), target: target, systemIdentifier: newest.systemIdentifier)
            archivedAt = try archive.copy(of: newest.file, in: region, documents: try archive.readerDocuments())?.header.pushedAt
        } catch {
            self.error = "\(error)"
        }
    }
}

extension TargetHealth {
    /// The WAL archive of a physical target across its regions (`check`): the newest file any
    /// region holds, when it was archived, and which regions hold it.
    public struct WalHealth: Sendable, Encodable {
        public var newestFile: String?
        public var systemIdentifier: String?
        public var archivedAt: Date?
        public var ageSeconds: Double?
        /// Regions holding the newest file.
        public var regions: [String]
        /// Files per region.
        public var files: [String: Int]

        enum CodingKeys: String, CodingKey {
            case regions, files
            case newestFile = "newest_file", systemIdentifier = "system_identifier", archivedAt = "archived_at", ageSeconds = "age_seconds"
        }
    }

    /// The WAL archive as the regions showed it; a finding for a region that could not be read
    /// or whose newest copy failed its checks, and for an archive that holds nothing yet.
    mutating func judgeWal(_ readings: [WalReading], now: Date) {
        for reading in readings where reading.error != nil {
            findings.append(HealthFinding(.warning, "WAL archive in region \(reading.region) unreadable: \(reading.error!)"))
        }
        let newest = readings.compactMap(\.newest).max()
        let holders = readings.filter { $0.newest != nil && $0.newest == newest }
        let archivedAt = holders.compactMap(\.archivedAt).max()
        wal = WalHealth(newestFile: newest, systemIdentifier: holders.first?.systemIdentifier.map(String.init), archivedAt: archivedAt,
                        ageSeconds: archivedAt.map { now.timeIntervalSince($0) }, regions: holders.map(\.region),
                        files: Dictionary(readings.map { ($0.region, $0.files) }, uniquingKeysWith: { first, _ in first }))
        if newest == nil, readings.contains(where: { $0.error == nil }) {
            findings.append(HealthFinding(.warning, "no WAL archived yet (archive_command: drctl wal-push, docs/OPERATIONS.md)"))
        }
        status = findings.map(\.status).max() ?? status
    }
}
