import Foundation
import Testing
import DrctlCrypto
@testable import DrctlStorage

/// docs/FORMAT.md must stay true: its examples are decoded by the code that reads
/// repositories, and what the code writes has exactly the documented keys.
@Suite struct FormatDocumentTests {
    static let document: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("docs/FORMAT.md"), encoding: .utf8)) ?? ""
    }()

    /// The first ```json block after `heading`.
    func example(after heading: String) throws -> String {
        let section = try #require(Self.document.range(of: heading), "FORMAT.md lost its '\(heading)' section")
        let rest = Self.document[section.upperBound...]
        let start = try #require(rest.range(of: "```json\n"))
        let end = try #require(rest[start.upperBound...].range(of: "```"))
        return String(rest[start.upperBound..<end.lowerBound])
    }

    func keys(_ json: Any, prefix: String = "") -> Set<String> {
        var found = Set<String>()
        if let object = json as? [String: Any] {
            for (key, value) in object {
                found.insert(prefix + key)
                found.formUnion(keys(value, prefix: prefix + key + "."))
            }
        } else if let array = json as? [Any] {
            for value in array { found.formUnion(keys(value, prefix: prefix + "[].")) }
        }
        return found
    }

    @Test func manifestExampleDecodesAndMatchesWhatIsWritten() throws {
        let text = try example(after: "## Backup manifest")
        let manifest = try BackupManifest.decode(Array(text.utf8))
        #expect(manifest.backupID == "20261122T051008.412Z-3f9a1c")
        #expect(manifest.id != nil)
        #expect(manifest.objects.first?.key == RepositoryLayout.dataKey(target: manifest.target, backup: manifest.id!, object: "stdout"))
        #expect(manifest.rawSize == manifest.objects.reduce(0) { $0 + $1.rawSize })
        #expect(manifest.status == .complete)
        // Same keys when written back: nothing undocumented, nothing documented but unwritten.
        let documented = keys(try JSONSerialization.jsonObject(with: Data(text.utf8)))
        let written = keys(try JSONSerialization.jsonObject(with: Data(try manifest.encoded())))
        #expect(documented == written)
        // The written form is the documented one byte for byte (sorted keys, pretty, newline).
        let encoded = String(decoding: try manifest.encoded(), as: UTF8.self)
        #expect(encoded == text, "FORMAT.md should show exactly what drctl writes:\n\(encoded)")
    }

    /// A version 2 manifest has the version 1 example's keys, `previous` and `authentication`
    /// (as FORMAT.md's table and version 2 example show), and version 2.
    @Test func aSealedManifestAddsOnlyTheDocumentedKeys() throws {
        let text = try example(after: "## Backup manifest")
        var manifest = try BackupManifest.decode(Array(text.utf8))
        manifest.previous = BackupReference(backupID: "20261122T041008.412Z-0a1b2c", sha256: String(repeating: "ab", count: 32))
        let stored = try manifest.seal(repositoryID: String(repeating: "0f", count: 16), signingKey: SigningKey.generate(),
                                       dataKey: DataKey.random())
        let documented = keys(try JSONSerialization.jsonObject(with: Data(text.utf8)))
            .union(["previous", "previous.backup_id", "previous.sha256",
                    "authentication", "authentication.mac", "authentication.signature", "authentication.signer"])
        #expect(keys(try JSONSerialization.jsonObject(with: Data(stored))) == documented)
        #expect(try BackupManifest.decode(stored).version == 2)
        let versionTwo = try #require(Self.document.range(of: "A version 2 manifest, as drctl writes it"))
        #expect(Self.document[versionTwo.upperBound...].contains("\"previous\" : {"))
    }

    @Test func repositoryMarkerExampleDecodes() throws {
        let text = try example(after: "## repository.json")
        let marker = try ManifestCoding.decoder.decode(RepositoryMarker.self, from: Data(text.utf8))
        #expect(marker.format == RepositoryMarker.formatName && marker.version == 2)
        #expect(marker.repositoryID.map(RepositoryMarker.isRepositoryID) == true)
        let encoded = String(decoding: try marker.encoded(), as: UTF8.self)
        #expect(encoded == text, "FORMAT.md should show exactly what drctl writes:\n\(encoded)")
    }

    @Test func drillRecordExampleDecodesAndMatchesWhatIsWritten() throws {
        let text = try example(after: "### Drill record")
        let record = try ManifestCoding.decoder.decode(DrillRecord.self, from: Data(text.utf8))
        #expect(record.id != nil && record.result == .passed && record.checks.count == 2)
        #expect(RepositoryLayout.recordKey(record) == "records/main-db/drills/20261122T060000.031Z-8c21d0.json")
        let encoded = String(decoding: Array(try ManifestCoding.encoder.encode(record)) + [0x0a], as: UTF8.self)
        #expect(encoded == text, "FORMAT.md should show exactly what drctl writes:\n\(encoded)")
    }

    @Test func failureRecordExampleDecodesAndMatchesWhatIsWritten() throws {
        let text = try example(after: "### Failure record")
        let record = try ManifestCoding.decoder.decode(FailureRecord.self, from: Data(text.utf8))
        #expect(RepositoryLayout.recordKey(record) == "records/main-db/failures/20261122T051008.412Z-3f9a1c.json")
        let encoded = String(decoding: Array(try ManifestCoding.encoder.encode(record)) + [0x0a], as: UTF8.self)
        #expect(encoded == text, "FORMAT.md should show exactly what drctl writes:\n\(encoded)")
    }
}
