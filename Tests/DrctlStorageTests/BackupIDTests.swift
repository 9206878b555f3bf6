import Foundation
import Testing
@testable import DrctlStorage

/// Backup and record ids are checked by hand (fast); they must accept exactly what a strict
/// `yyyyMMdd'T'HHmmss` UTC date formatter (the one ids are made with) accepts.
@Suite struct BackupIDTests {
    @Test func wellFormedIdsAreAccepted() {
        for text in ["20261122T051008.412Z-3f9a1c", "20240229T235959.999Z-000000", "20000229T000000.000Z-abcdef"] {
            #expect(BackupID(text)?.rawValue == text, "\(text)")
        }
        let made = BackupID(startedAt: Date(timeIntervalSince1970: 1_795_000_000.5))
        #expect(BackupID(made.rawValue) == made)
    }

    @Test func malformedIdsAreRefused() {
        for text in ["20261322T051008.412Z-3f9a1c", "20261100T051008.412Z-3f9a1c", "20230229T051008.412Z-3f9a1c",
                     "21000229T051008.412Z-3f9a1c", "20261130T241008.412Z-3f9a1c", "20261130T056008.412Z-3f9a1c",
                     "20261130T051060.412Z-3f9a1c", "20261131T051008.412Z-3f9a1c", "2026113XT051008.412Z-3f9a1c",
                     "20261122X051008.412Z-3f9a1c", "20261122T051008.412Z-3F9A1C", "20261122T051008.412Z-3f9a1",
                     "20261122T051008.41Z-3f9a1c", "20261122T051008.412-3f9a1c", "20261122T051008.412Z", "",
                     "20261122T051008.412Z-3f9a1c-1", "2026-11-22T05:10:08Z-3f9a1c", "00001122T051008.412Z-3f9a1c"] {
            #expect(BackupID(text) == nil, "\(text)")
        }
    }

    @Test func agreesWithAStrictDateFormatter() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            let stamp = String(format: "%04d%02d%02dT%02d%02d%02d",
                               Int.random(in: 1990...2110, using: &generator), Int.random(in: 0...13, using: &generator),
                               Int.random(in: 0...32, using: &generator), Int.random(in: 0...24, using: &generator),
                               Int.random(in: 0...60, using: &generator), Int.random(in: 0...60, using: &generator))
            let expected = BackupID.secondsFormatter.date(from: stamp) != nil
            #expect((BackupID("\(stamp).123Z-0a1b2c") != nil) == expected, "\(stamp)")
        }
    }
}
