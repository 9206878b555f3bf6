import Foundation
import DrctlStorage

/// Standard output: data for people (tables) or for scripts (`--json`).
enum Output {
    static func json<T: Encodable>(_ value: T) throws {
        let data = try ManifestCoding.encoder.encode(value)
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }

    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// Left-aligned columns, two spaces apart.
    static func table(_ header: [String], _ rows: [[String]]) {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        for row in all {
            let cells = row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }
            line(cells.joined(separator: "  "))
        }
    }
}

/// What `list` and `backup --json` print for one backup.
struct BackupSummary: Encodable {
    let target: String
    let backupID: String
    let kind: String
    var status: String
    let startedAt: Date
    let finishedAt: Date
    let consistentPoint: Date
    let rawSize: UInt64
    let storedSize: UInt64
    /// The regions holding the backup's manifest (as listed now).
    let regions: [String]
    /// `signed` (a version 2 manifest whose writer signature was checked) or `unauthenticated`
    /// (version 1: believed as version 1 always was).
    let authentication: String

    init(_ manifest: BackupManifest, regions: [String]? = nil) {
        target = manifest.target
        backupID = manifest.backupID
        kind = manifest.kind
        status = manifest.status.rawValue
        startedAt = manifest.startedAt
        finishedAt = manifest.finishedAt
        consistentPoint = manifest.consistentPoint.time
        rawSize = manifest.rawSize
        storedSize = manifest.storedSize
        self.regions = regions ?? manifest.regions
        if case .signed = manifest.authenticity { authentication = "signed" } else { authentication = "unauthenticated" }
    }

    enum CodingKeys: String, CodingKey {
        case target, kind, status, regions, authentication
        case backupID = "backup_id", startedAt = "started_at", finishedAt = "finished_at"
        case consistentPoint = "consistent_point", rawSize = "raw_size", storedSize = "stored_size"
    }
}
