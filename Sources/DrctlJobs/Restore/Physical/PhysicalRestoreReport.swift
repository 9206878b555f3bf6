import Foundation
import DrctlStorage

/// What `drctl restore` says after a point-in-time restore: the target in UTC and in the
/// server's time zone (where the people who asked for it live), and the point reached.
public enum PhysicalRestoreReport {
    public static func lines(_ recovery: PhysicalRecovery, manifest: BackupManifest, dataDirectory: String) -> [String] {
        var lines: [String] = []
        let backupEnd = manifest.consistentPoint
        lines.append("base backup ends at \(moment(backupEnd.time, recovery.serverTimeZone)) (LSN \(backupEnd.lsn ?? "?")); "
            + "recovery replays the WAL archive from there")
        switch recovery.target {
        case .latest: lines.append("recovery target: latest (everything the WAL archive holds)")
        case .time(let time): lines.append("recovery target: \(moment(time, recovery.serverTimeZone)) (the last commit at or before it)")
        case .lsn(let lsn): lines.append("recovery target: LSN \(lsn)")
        }
        for region in recovery.unlistedRegions {
            lines.append("the WAL archive of \(region): the point in time was checked against the other regions' WAL only")
        }
        if recovery.started {
            let commit = recovery.reachedCommitTime.map { moment($0, recovery.serverTimeZone) } ?? "none replayed"
            lines.append("promoted: last replayed commit \(commit), LSN \(recovery.reachedLSN ?? "?"), now on timeline "
                + "\(recovery.reachedTimeline.map(String.init) ?? "?"); the server is running on \(dataDirectory) (\(recovery.listening ?? "its configured port"))")
        } else {
            lines.append("start it (as the server's user) with pg_ctl -D \(dataDirectory) start: it replays to the target and promotes")
        }
        return lines
    }

    /// "2026-03-29 00:30:00.000000+00 UTC (2026-03-29 01:30:00.000000+01:00 Europe/Berlin on the server)".
    static func moment(_ date: Date, _ zone: TimeZone?) -> String {
        let utc = "\(PostgresTimeText.utc(date)) UTC"
        guard let zone, zone.identifier != "UTC", zone.identifier != "Etc/UTC" else { return utc }
        return "\(utc) (\(PostgresTimeText.local(date, zone: zone)) on the server)"
    }
}
