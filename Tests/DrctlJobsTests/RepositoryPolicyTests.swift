import Foundation
import Testing
import DrctlCrypto
@testable import DrctlJobs
import DrctlPipeline
import DrctlPolicy
@testable import DrctlStorage

/// What a policy's S3 regions become: stores with the policy's checksum setting and their share
/// of the part buffers.
@Suite struct RepositoryPolicyTests {
    /// A policy with `regions` (YAML flow mappings, `ROOT` for a scratch directory holding the key).
    static func policy(regions: [String], in root: String) throws -> Policy {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try SecretKey.generate().write(to: "\(root)/backup.key")
        let lines = regions.map { "    - " + $0.replacingOccurrences(of: "ROOT", with: root) }.joined(separator: "\n")
        return try PolicyLoader.load(yaml: """
            version: 1
            repository:
              regions:
            \(lines)
              encryption: {key_file: \(root)/backup.key}
            targets:
              - {name: t, kind: command, command: [true]}
            """, sourcePath: "\(root)/policy.yaml")
    }

    @Test func s3RegionsCarryTheirChecksumSettingAndPartBuffers() throws {
        let root = NSTemporaryDirectory() + "drctl-region-factory-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let policy = try Self.policy(regions: [
            "{name: aws, url: s3://one/drctl, access_key_id: {env: HOME}, secret_access_key: {env: HOME}}",
            "{name: b2, url: s3://two/drctl, endpoint: \"https://s3.eu-central-003.backblazeb2.com\", "
                + "access_key_id: {env: HOME}, secret_access_key: {env: HOME}, checksums: false}",
            "{name: local, url: ROOT/repo}",
        ], in: root)
        let stores = try Repository(policy: policy.repository).regions.map { $0.store as? S3ObjectStore }
        #expect(stores[0]?.additionalChecksums == true)
        #expect(stores[1]?.additionalChecksums == false)
        #expect(stores[2] == nil)
        #expect(stores[0]?.uploadMemory == 15 << 20 && stores[1]?.uploadMemory == 15 << 20)
        #expect(StreamMemory(policy.repository).compressionJobSize == ZstdCompressor.defaultJobSize)
    }

    /// Without `timeout` or `read_deadline` a region still has both (docs/POLICY.md): a frozen
    /// region is dropped from a backup after 60 s, and read-only commands give it up after 10 s.
    @Test func regionsHaveADefaultStallTimeoutAndReadDeadline() throws {
        let root = NSTemporaryDirectory() + "drctl-region-factory-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let policy = try Self.policy(regions: [
            "{name: aws, url: s3://one/drctl, access_key_id: {env: HOME}, secret_access_key: {env: HOME}}",
            "{name: local, url: ROOT/repo, timeout: 2m, read_deadline: 3s}",
        ], in: root)
        let regions = try Repository(policy: policy.repository).regions
        #expect(regions.map(\.timeout) == [.seconds(60), .seconds(120)])
        #expect(regions.map(\.readDeadline) == [.seconds(10), .seconds(3)])
        #expect((regions[0].store as? S3ObjectStore)?.settings.stallTimeout == 60)
        let reading = try Repository(readingPolicy: policy.repository).regions
        #expect((reading[0].store as? S3ObjectStore)?.deadline?.seconds == 10)
        #expect((reading[0].store as? S3ObjectStore)?.settings.stallTimeout == 10)
    }
}
