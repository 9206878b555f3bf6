import Foundation
import Logging
import Testing
import DrctlCrypto
import DrctlJobs
import DrctlPolicy
@testable import DrctlStorage

/// A scratch directory with a policy whose regions are local directories under it, a fresh
/// secret key, one target `t`, and a runner for that policy; removed when released.
final class ScratchRepository {
    let root: String
    let policy: Policy
    let interruption = Interruption()

    /// Target `t` of `kind: command`.
    /// - Parameters:
    ///   - regions: region name → its directory under `root` (a path below a plain file is one
    ///     no write can reach).
    ///   - script: what target `t` runs (`sh -c`); `ROOT` stands for `root`.
    ///   - retention: target `t`'s `retention:`, as YAML flow.
    convenience init(regions: [(name: String, path: String)] = [("local", "repo")], minRegions: Int = 1, script: String,
                     retention: String? = nil) throws {
        try self.init(regions: regions, minRegions: minRegions) { root in
            """
                kind: command
                command: ["sh", "-c", "\(script.replacingOccurrences(of: "ROOT", with: root))"]
            \(retention.map { "    retention: \($0)" } ?? "")
            """
        }
    }

    /// - Parameter target: target `t`'s fields after its name, as YAML lines indented by four
    ///   spaces, given `root` (a `{file: ...}` secret lives there: `writeSecret`).
    init(regions: [(name: String, path: String)] = [("local", "repo")], minRegions: Int = 1,
         target: (_ root: String) -> String) throws {
        let root = NSTemporaryDirectory() + "drctl-jobs-test-\(UUID().uuidString)"
        self.root = root
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try SecretKey.generate().write(to: "\(root)/backup.key")
        let regionLines = regions.map { "    - {name: \($0.name), url: \(root)/\($0.path)}" }.joined(separator: "\n")
        policy = try PolicyLoader.load(yaml: """
            version: 1
            repository:
              min_regions: \(minRegions)
              regions:
            \(regionLines)
              encryption: {key_file: \(root)/backup.key}
            targets:
              - name: t
            \(target(root))
            """, sourcePath: "\(root)/policy.yaml")
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    var runner: JobRunner {
        JobRunner(JobContext(policy: policy, logger: Logger(label: "drctl-jobs-test"), interruption: interruption))
    }

    var target: TargetPolicy { policy.targets[0] }

    /// Writes a secret the policy names as `{file: ROOT/name}`.
    func writeSecret(_ name: String, _ value: String) throws {
        try value.write(toFile: "\(root)/\(name)", atomically: true, encoding: .utf8)
    }

    /// The store of the region at `path` under `root`, as the job wrote it.
    func store(_ path: String = "repo") -> LocalDirectoryStore { LocalDirectoryStore(root: "\(root)/\(path)") }

    /// Every key under `prefix` in the region at `path`.
    func keys(under prefix: String, in path: String = "repo") throws -> [String] {
        try store(path).list(prefix: prefix).map(\.key)
    }

    /// The target's failure records, as check and report read them.
    func failureRecords(of target: String) throws -> [FailureRecord] {
        try Repository(readingPolicy: policy.repository).mergedRecords(FailureRecord.self, target: target).records
    }

    /// The backup `result` was interrupted by SIGTERM and left nothing committed: no manifest,
    /// no data object, and a failure record naming the signal.
    func expectInterruptedBySIGTERM(_ result: Result<BackupManifest, any Error>,
                                    sourceLocation: SourceLocation = #_sourceLocation) throws {
        guard case .failure(JobError.interrupted(let signal)) = result else {
            Issue.record("the backup was not interrupted: \(result)", sourceLocation: sourceLocation)
            return
        }
        #expect(signal == "SIGTERM", sourceLocation: sourceLocation)
        #expect(try keys(under: "manifests/").isEmpty, sourceLocation: sourceLocation)
        #expect(try keys(under: "data/").isEmpty, sourceLocation: sourceLocation)
        #expect(try failureRecords(of: "t").map(\.error) == ["interrupted by SIGTERM"], sourceLocation: sourceLocation)
    }

    /// Waits until the target's script says it got there by creating `name` under `root` (a
    /// handshake, not a guess at how long the script takes).
    func waitFor(_ name: String) async throws {
        while !FileManager.default.fileExists(atPath: "\(root)/\(name)") {
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Lets the target's script go on (it waits for `name` under `root`).
    func release(_ name: String) {
        _ = FileManager.default.createFile(atPath: "\(root)/\(name)", contents: Data())
    }

    /// Writes the next generation of the target's lock in the first region, signed, as another
    /// run that took the lock over would.
    func takeOverLock(of target: String) throws {
        let keys = try KeyRing(policy: policy.repository.encryption)
        let repository = try Repository(policy: policy.repository, keys: keys)
        let chain = LockChain(region: repository.regions[0], target: target,
                              signing: try repository.signedDocuments(signingKey: .success(try keys.requireSigningKey())))
        guard let newest = try chain.newest() else { throw TakeoverError() }
        try chain.write(.held, generation: newest.generation + 1,
                        owner: LockOwner(host: "elsewhere", pid: 42, runID: "20991231T000000.000Z-000000", operation: "backup"),
                        acquiredAt: Date(), now: Date(), ttl: 600)
    }

    struct TakeoverError: Error, CustomStringConvertible {
        var description: String { "the target holds no lock to take over" }
    }
}
