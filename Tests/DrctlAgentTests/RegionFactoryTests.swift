import Foundation
import Testing
import DrctlCrypto
@testable import DrctlJobs
import DrctlPipeline
import DrctlPolicy
@testable import DrctlStorage

/// What a policy's S3 regions become: stores with the policy's checksum setting and their share
/// of the part buffers.
@Suite struct RegionFactoryTests {
    @Test func s3RegionsCarryTheirChecksumSettingAndPartBuffers() throws {
        let root = NSTemporaryDirectory() + "drctl-region-factory-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try SecretKey.generate().write(to: "\(root)/backup.key")
        let policy = try PolicyLoader.load(yaml: """
            version: 1
            repository:
              regions:
                - {name: aws, url: s3://one/drctl, access_key_id: {env: HOME}, secret_access_key: {env: HOME}}
                - {name: b2, url: s3://two/drctl, endpoint: "https://s3.eu-central-003.backblazeb2.com",
                   access_key_id: {env: HOME}, secret_access_key: {env: HOME}, checksums: false}
                - {name: local, url: \(root)/repo}
              encryption: {key_file: \(root)/backup.key}
            targets:
              - {name: t, kind: command, command: [true]}
            """, sourcePath: "\(root)/policy.yaml")
        let stores = try Repository(policy: policy.repository).regions.map { $0.store as? S3ObjectStore }
        #expect(stores[0]?.additionalChecksums == true)
        #expect(stores[1]?.additionalChecksums == false)
        #expect(stores[2] == nil)
        #expect(stores[0]?.uploadMemory == 15 << 20 && stores[1]?.uploadMemory == 15 << 20)
        #expect(StreamMemory(policy.repository).compressionJobSize == ZstdCompressor.defaultJobSize)
    }
}
