import Foundation
import Testing
@testable import DrctlPolicy

/// A temporary directory holding `keys/backup.key` and `keys/backup.pub`, in which policies are
/// loaded as `policy.yaml` (so relative key paths resolve there).
final class Workspace {
    let directory: String

    init() throws {
        directory = NSTemporaryDirectory() + "drctl-policy-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory + "/keys", withIntermediateDirectories: true)
        try Data("secret key\n".utf8).write(to: URL(fileURLWithPath: directory + "/keys/backup.key"))
        try Data("public key\n".utf8).write(to: URL(fileURLWithPath: directory + "/keys/backup.pub"))
    }

    deinit {
        try? FileManager.default.removeItem(atPath: directory)
    }

    var policyPath: String { directory + "/policy.yaml" }

    func load(_ yaml: String) throws(PolicyError) -> Policy {
        try PolicyLoader.load(yaml: yaml, sourcePath: policyPath)
    }

    /// The problems of an invalid policy (records an issue if it loads).
    func problems(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> [PolicyProblem] {
        do {
            _ = try load(yaml)
            Issue.record("policy loaded but problems were expected", sourceLocation: sourceLocation)
            return []
        } catch {
            return error.problems
        }
    }
}

/// Expects exactly one problem at `line` (and `column` if given) with `path` whose message contains `fragment`.
func expectProblem(_ problems: [PolicyProblem], line: Int, column: Int? = nil, path: String, _ fragment: String,
                   count: Int? = 1, sourceLocation: SourceLocation = #_sourceLocation) {
    if let count {
        #expect(problems.count == count, "problems: \(problems.map(\.description))", sourceLocation: sourceLocation)
    }
    let found = problems.first { $0.line == line && $0.keyPath == path && $0.message.contains(fragment) && (column == nil || $0.column == column) }
    #expect(found != nil, "no problem at line \(line) \(path): \(fragment) in:\n\(problems.map(\.description).joined(separator: "\n"))",
            sourceLocation: sourceLocation)
}

/// A valid policy; tests replace parts of it. Line numbers are in the comments.
let minimalPolicy = """
version: 1
repository:
  regions:
    - name: local
      url: repo
  encryption:
    key_file: keys/backup.key
targets:
  - name: app
    kind: command
    command: ["tar", "-cf", "-", "/srv"]
"""

/// `Date` from a UTC ISO 8601 string.
func utc(_ text: String) -> Date {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.date(from: text)!
}

/// A zoned wall-clock description of a date: "2026-03-29 03:00 +0200".
func wall(_ date: Date?, _ zone: String) -> String {
    guard let date else { return "nil" }
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: zone)
    formatter.dateFormat = "yyyy-MM-dd HH:mm Z"
    return formatter.string(from: date)
}
