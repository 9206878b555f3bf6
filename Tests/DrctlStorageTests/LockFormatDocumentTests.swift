import Foundation
import Testing
@testable import DrctlStorage

/// docs/FORMAT.md's lock example is what the code writes, byte for byte.
@Suite struct LockFormatDocumentTests {
    @Test func lockExampleDecodesAndMatchesWhatIsWritten() throws {
        let text = try FormatDocumentTests().example(after: "## Lock")
        let record = try ManifestCoding.decoder.decode(LockRecord.self, from: Data(text.utf8))
        #expect(record.state == .held && record.generation == 7 && record.owner.runID == "20261122T051008.412Z-3f9a1c")
        #expect(RepositoryLayout.lockKey(target: record.target, generation: record.generation) == "locks/main-db/000000000007.json")
        #expect(RepositoryLayout.lockGeneration("locks/main-db/000000000007.json", target: "main-db") == 7)
        #expect(RepositoryLayout.lockGeneration("locks/main-db/.000000000007.json.tmp-ab", target: "main-db") == nil)
        let encoded = String(decoding: Array(try ManifestCoding.encoder.encode(record)) + [0x0a], as: UTF8.self)
        #expect(encoded == text, "FORMAT.md should show exactly what drctl writes:\n\(encoded)")
    }
}
