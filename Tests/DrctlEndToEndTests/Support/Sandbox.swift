import Foundation
import DrctlCrypto

/// A temporary directory holding one test's policy, keys and repository; removed at the end.
final class Sandbox {
    let root: String
    var repository: String { "\(root)/repo" }
    var policyPath: String { "\(root)/policy.yaml" }
    var keyPath: String { "\(root)/backup.key" }
    var publicKeyPath: String { "\(root)/backup.pub" }

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let keygen = try Drctl.run(["keygen", "--out", keyPath, "--public-out", publicKeyPath])
        guard keygen.status == 0 else { throw Command.ShellFailed(script: "drctl keygen", result: keygen) }
    }

    deinit {
        _ = try? Command.run(["/bin/sh", "-c", "mountpoint -q '\(root)/full' && umount '\(root)/full'"])
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Writes a policy with one local region (or the given ones) and the given targets.
    /// - Parameters:
    ///   - targets: name → argv of a `kind: command` target.
    ///   - encryption: the `encryption:` mapping's lines.
    ///   - rawTargets: more targets as YAML list items (indented by two spaces).
    func writePolicy(targets: [(String, [String])], regions: [(String, String)]? = nil, minRegions: Int = 1,
                     encryption: [String]? = nil, rawTargets: String = "") throws {
        let regionLines = (regions ?? [("local", repository)]).map { name, path in
            "    - name: \(name)\n      url: \(path)"
        }.joined(separator: "\n")
        let keyLines = (encryption ?? ["key_file: \(keyPath)"]).map { "    \($0)" }.joined(separator: "\n")
        let targetLines = targets.map { name, argv in
            "  - name: \(name)\n    kind: command\n    command: \(Self.flowList(argv))"
        }.joined(separator: "\n")
        let yaml = """
            version: 1
            repository:
              regions:
            \(regionLines)
              min_regions: \(minRegions)
              compression:
                level: 3
              encryption:
            \(keyLines)
            targets:
            \(targetLines)
            \(rawTargets)
            """
        try yaml.write(toFile: policyPath, atomically: true, encoding: .utf8)
    }

    /// A policy with one S3 region, `s3` (`s3://backups/prod` on `endpoint`, path-style, more of
    /// its keys in `settings`), and one command target, `files`.
    /// One S3 region `s3` on `endpoint` (with `settings`); `alsoLocal` adds the sandbox's
    /// directory as a second region, `local`.
    func writeS3Policy(endpoint: String, settings: [String] = [], command: [String], alsoLocal: Bool = false) throws {
        let regionLines = (["url: s3://backups/prod", "endpoint: \(endpoint)", "path_style: true"] + settings)
            .map { "      \($0)" }.joined(separator: "\n")
            + (alsoLocal ? "\n    - name: local\n      url: \(repository)" : "")
        try """
            version: 1
            repository:
              regions:
                - name: s3
            \(regionLines)
              encryption:
                key_file: \(keyPath)
            targets:
              - name: files
                kind: command
                command: \(Self.flowList(command))

            """.write(toFile: policyPath, atomically: true, encoding: .utf8)
    }

    /// `["a", "b"]`: strings as a YAML flow sequence, quoted.
    static func flowList(_ strings: [String]) -> String {
        let quoted = strings.map { "\"\($0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))\"" }
        return "[\(quoted.joined(separator: ", "))]"
    }

    /// Runs drctl with `--policy` of this sandbox appended.
    @discardableResult
    func drctl(_ arguments: [String]) throws -> Drctl.Result {
        try Drctl.run(arguments + ["--policy", policyPath])
    }

    /// Every file under `directory` (relative paths), including hidden ones.
    func files(under directory: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return [] }
        var found: [String] = []
        while let path = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: "\(directory)/\(path)", isDirectory: &isDirectory), !isDirectory.boolValue {
                found.append(path)
            }
        }
        return found.sorted()
    }

    /// The signing key drctl derives from the sandbox's secret key (symmetric mode): a test that
    /// writes records as drctl does signs them with it.
    var signingKey: Result<SigningKey, any Error> {
        Result { SigningKey(derivedFrom: try SecretKey.load(path: keyPath)) }
    }

    func sha256(_ path: String) throws -> String {
        String(try Command.shell("sha256sum '\(path)'").prefix(64))
    }
}
