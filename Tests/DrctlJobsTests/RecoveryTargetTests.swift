import Foundation
import Testing
@testable import DrctlJobs

/// What `drctl restore --point-in-time/--lsn/--timeline/--tablespace-map` accepts for a physical
/// target, and the recovery settings written from it.
@Suite struct RecoveryTargetTests {
    @Test func aTimeMustSayItsOffset() throws {
        #expect(try RecoveryTarget.parse(time: "latest") == .latest)
        let utc = try RecoveryTarget.parse(time: "2026-03-29T00:30:00.123456Z")
        let berlin = try RecoveryTarget.parse(time: "2026-03-29T02:30:00.123456+02:00")
        #expect(utc == berlin)
        guard case .time(let date) = utc else { Issue.record("not a time: \(utc)"); return }
        // To the microsecond, as PostgreSQL reads recovery_target_time.
        #expect(PostgresTimeText.utc(date) == "2026-03-29 00:30:00.123456+00")
        #expect(try RecoveryTarget.parse(time: "2026-03-29T01:30:00-05:00") != .latest)
        for text in ["2026-03-29T00:30:00", "2026-03-29 00:30:00", "yesterday", "2026-03-29"] {
            #expect(throws: PhysicalRestoreError.self) { try RecoveryTarget.parse(time: text) }
        }
    }

    @Test func positionsTimelinesAndTablespaceMaps() throws {
        #expect(try RecoveryTarget.parse(lsn: "0/3000148") == .lsn("0/3000148"))
        #expect(try RecoveryTarget.parse(lsn: "1a/ff") == .lsn("1A/FF"))
        for text in ["3000148", "0/", "x/1", "0/123456789"] {
            #expect(throws: PhysicalRestoreError.self) { try RecoveryTarget.parse(lsn: text) }
        }
        #expect(try PhysicalRestoreOptions.parse(timeline: "2") == "2")
        #expect(try PhysicalRestoreOptions.parse(timeline: "latest") == "latest")
        #expect(throws: PhysicalRestoreError.self) { try PhysicalRestoreOptions.parse(timeline: "0") }
        #expect(throws: PhysicalRestoreError.self) { try PhysicalRestoreOptions.parse(timeline: "newest") }
        #expect(try PhysicalRestoreOptions.parse(tablespaceMap: ["/srv/ts1/=/mnt/ts1"]) == ["/srv/ts1": "/mnt/ts1"])
        #expect(throws: PhysicalRestoreError.self) { try PhysicalRestoreOptions.parse(tablespaceMap: ["ts1=/mnt/ts1"]) }
        #expect(throws: PhysicalRestoreError.self) { try PhysicalRestoreOptions.parse(tablespaceMap: ["/srv/ts1"]) }
    }

    @Test func settingsQuoteForTheConfigurationAndTheShell() throws {
        let settings = RecoverySettings(drctl: "/opt/drctl/bin/drctl", policyPath: "/etc/drctl/it's policy.yaml", target: "main",
                                        spool: RecoverySettings.spoolDirectory(besides: "/var/lib/postgresql/15/main/"),
                                        recoveryTarget: .time(Date(timeIntervalSince1970: 1_774_744_200.5)), timeline: "1", port: 5433,
                                        note: "drctl restore")
        #expect(settings.lines == [
            "", "# drctl restore",
            "restore_command = '/opt/drctl/bin/drctl wal-fetch --policy ''/etc/drctl/it''\\''''s policy.yaml'' --target main --spool /var/lib/postgresql/15/main.drctl-wal-spool \"%f\" \"%p\"'",
            "recovery_target_time = '2026-03-29 00:30:00.500000+00'",
            "recovery_target_action = 'promote'",
            "recovery_target_timeline = '1'",
            "port = 5433",
        ])
        // latest: no target at all, so recovery runs to the end of the archive and then promotes.
        let latest = RecoverySettings(drctl: "/d", policyPath: "/p", target: "t", spool: "off", recoveryTarget: .latest, timeline: nil, port: nil, note: "n")
        #expect(latest.lines.filter { $0.hasPrefix("recovery_target") }.isEmpty)
    }
}
