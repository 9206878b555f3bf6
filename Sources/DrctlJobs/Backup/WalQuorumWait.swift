import Foundation
import Logging
import DrctlStorage

/// Waits until the WAL archive holds every segment a base backup needs (`start_wal` through
/// `end_wal`) in at least `min_regions` regions: only then is the backup restorable, and only then
/// is its manifest committed (docs/FORMAT.md, "Physical base backups"). PostgreSQL archives the
/// end segment by itself once the backup ends (its stop switches to a new segment).
struct WalQuorumWait {
    let target: String
    let physical: PhysicalBackupInfo
    /// The regions whose copy of a segment exists and authenticates, and why the others' could
    /// not be read (`WalArchive.holding`).
    let holding: @Sendable (WalFileName) throws -> WalHolding
    let minRegions: Int
    let timeout: Duration
    /// Between two looks at the archive.
    var pollInterval: Duration = .milliseconds(250)

    func run(interruption: Interruption, logger: Logger) async throws {
        let segments = Self.segments(physical)
        guard !segments.isEmpty else {
            throw PhysicalBackupError.walRangeUnreadable(start: physical.startWAL, end: physical.endWAL)
        }
        let deadline = ContinuousClock.now + timeout
        var waiting = segments[...]
        while let segment = waiting.first {
            if let signal = interruption.signal { throw JobError.interrupted(signal: signal) }
            // A read error may be transient (a region restarting): it is looked at again until the
            // deadline, and the last one is what the timeout names.
            let found = try await OffPool.run { [holding] in
                do { return try holding(segment) } catch { return WalHolding(unreadable: [("the repository", "\(error)")]) }
            }
            if found.held.count >= minRegions {
                waiting = waiting.dropFirst()
                continue
            }
            guard ContinuousClock.now < deadline else {
                throw PhysicalBackupError.walNotArchived(target: target, segment: "\(segment)", holding: found,
                                                         required: minRegions, waited: timeout)
            }
            try await Task.sleep(for: pollInterval)
        }
        logger.info("WAL of the base backup archived", metadata: [
            "start_wal": "\(physical.startWAL)", "end_wal": "\(physical.endWAL)",
        ])
    }
}

extension WalQuorumWait {
    /// `start_wal` through `end_wal`; empty when they are not segments of one timeline in order.
    static func segments(_ physical: PhysicalBackupInfo) -> [WalFileName] {
        let size = physical.walSegmentSize
        guard WalFileName.isValidSegmentSize(size), let first = WalFileName(physical.startWAL), let last = WalFileName(physical.endWAL),
              first.timeline == last.timeline, let a = first.segmentNumber(segmentSize: size),
              let b = last.segmentNumber(segmentSize: size), a <= b else { return [] }
        return (a...b).map { WalFileName.segment(number: $0, timeline: first.timeline, segmentSize: size) }
    }
}

/// Why a physical base backup could not be taken or committed.
public enum PhysicalBackupError: Error, CustomStringConvertible {
    /// Physical backups and the WAL archive need authenticated documents (format version 2).
    case versionOneRepository(target: String)
    /// A segment the backup needs did not reach the archive's quorum in time.
    /// `holding` is the last look: who held it, and each region's last read error.
    case walNotArchived(target: String, segment: String, holding: WalHolding, required: Int, waited: Duration)
    /// The server's positions gave no segment range: start and end on different timelines
    /// (a promotion during the backup), or names that are not segments.
    case walRangeUnreadable(start: String, end: String)
    /// The server answered something no PostgreSQL 15 server does (`what`): nothing is built on it.
    case implausibleServerAnswer(target: String, what: String)
    /// A system identifier that is not the decimal number (no sign, no leading zeros) the WAL
    /// archive's keys and restore read: the backup would name a cluster whose WAL is elsewhere.
    case unreadableSystemIdentifier(target: String, text: String)

    public var description: String {
        switch self {
        case .versionOneRepository(let target):
            return "target '\(target)' has mode: physical, which needs a version 2 repository (authenticated documents); "
                + "this repository is version 1: run `drctl repository upgrade` first"
        case .walNotArchived(let target, let segment, let holding, let required, let waited):
            let heldBy = holding.held
            let held = heldBy.isEmpty ? "no region holds it" : "only \(heldBy.joined(separator: ", ")) hold\(heldBy.count == 1 ? "s" : "") it"
            let summary = "the base backup of target '\(target)' needs WAL segment \(segment), which did not reach the WAL archive in "
                + "\(required) region\(required == 1 ? "" : "s") within \(DurationText.short(Double(waited.components.seconds)))"
            guard holding.unreadable.isEmpty else {
                // Copies that are there but cannot be read are a storage or key problem, not the archiver's.
                let reasons = holding.unreadable.map { "\($0.region): \($0.reason)" }.joined(separator: "; ")
                return summary + " (\(heldBy.isEmpty ? "no region could be counted" : held); its copy could not be read from "
                    + "\(reasons)); the backup was not committed"
            }
            return summary + " (\(held)); the server's "
                + "archive_command must be `drctl wal-push --target \(target) %p` (check pg_stat_archiver for its failures); "
                + "the backup was not committed"
        case .walRangeUnreadable(let start, let end):
            return "the base backup's WAL range \(start)…\(end) is not one timeline's segments in order (did the server "
                + "change timeline, a standby promoted, while the backup ran?); the backup was not committed: take it again"
        case .unreadableSystemIdentifier(let target, let text):
            return PhysicalBackupError.implausibleServerAnswer(
                target: target, what: "system identifier '\(text)', which is not a decimal number without sign or leading zeros").description
        case .implausibleServerAnswer(let target, let what):
            return "the PostgreSQL server of target '\(target)' answered the base backup with \(what); drctl does not build a "
                + "backup on it (a proxy or pooler between drctl and the server, or a server that is not PostgreSQL?); the backup was not committed"
        }
    }
}
