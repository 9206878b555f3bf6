import Foundation
import Testing
import DrctlStorage

/// The object names readers accept (docs/FORMAT.md, "Readers' rules"): every name drctl writes,
/// nothing that could leave a backup's folder or hide in a directory listing.
@Suite struct ManifestRulesTests {
    @Test func namesDrctlWritesAreAccepted() {
        for name in ["stdout", "dump.rdb", "globals.sql", "db-0-app.dump", "db-3-caf\u{e9}.dump", "db-4-cafe\u{301}.dump",
                     "db-1-\u{65e5}\u{672c}.dump", "db-2-my_db-1.dump", "1", String(repeating: "a", count: 255)] {
            #expect(ManifestRules.isObjectName(name), "\(name)")
        }
    }

    @Test func namesThatCouldEscapeOrHideAreRefused() {
        for name in ["", ".", "..", "../escape", "a/b", "/etc/passwd", ".hidden", "-leading", "_leading", "a b", "a\\b",
                     "a\u{0}b", "a:b", String(repeating: "a", count: 256), String(repeating: "\u{e9}", count: 128)] {
            #expect(!ManifestRules.isObjectName(name), "\(name)")
        }
    }
}
