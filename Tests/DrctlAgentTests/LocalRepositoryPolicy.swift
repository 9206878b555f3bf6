import Foundation
import DrctlCrypto
import DrctlPolicy

/// A scratch directory holding a policy's repository (`repo`) and a fresh secret key, removed
/// when released.
final class LocalRepositoryPolicy {
    let root: String
    let policy: Policy

    /// - Parameter rest: the policy from `targets:` on, as YAML.
    init(_ rest: String) throws {
        root = NSTemporaryDirectory() + "drctl-agent-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try SecretKey.generate().write(to: "\(root)/backup.key")
        policy = try PolicyLoader.load(yaml: """
            version: 1
            repository:
              regions:
                - name: local
                  url: \(root)/repo
              encryption: {key_file: \(root)/backup.key}
            \(rest)
            """, sourcePath: "\(root)/policy.yaml")
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }
}
