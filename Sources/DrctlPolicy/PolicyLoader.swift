import Foundation
import Yams

/// Reads, parses and validates policy files. Every problem in a file is collected and thrown
/// together as a `PolicyError`; a `Policy` is returned only when there are none.
public enum PolicyLoader {
    /// The schema version this build reads.
    public static let schemaVersion = 1

    /// Loads the policy at `path`. Relative paths inside it are resolved against its directory.
    public static func load(path: String) throws(PolicyError) -> Policy {
        let data: Data
        do {
            data = try FileIO.contents(of: path)
        } catch {
            throw PolicyError(problems: [PolicyProblem(file: path, line: 0, column: 0, keyPath: "",
                                                       message: "cannot read policy \(path): \(error.reason)")])
        }
        return try load(yaml: PolicyEncoding.text(of: data, file: path), sourcePath: path)
    }

    /// Loads a policy from text. `sourcePath` names it in problems, and relative paths inside it are
    /// resolved against `sourcePath`'s directory (which need not exist as a file).
    public static func load(yaml: String, sourcePath: String) throws(PolicyError) -> Policy {
        let directory = PathText.normalize((PathText.absolute(sourcePath) as NSString).deletingLastPathComponent)
        let validator = PolicyValidator(file: sourcePath, baseDirectory: directory, document: YAMLDocument(yaml: yaml))
        let policy = validator.validate()
        let problems = validator.sortedProblems
        if let policy, problems.isEmpty { return policy }
        throw PolicyError(problems: problems.isEmpty
            ? [PolicyProblem(file: sourcePath, line: 0, column: 0, keyPath: "", message: "internal error: incomplete policy")]
            : problems)
    }
}

public enum PathText {
    /// `path` as the working directory makes it absolute (unchanged when it already is): what a
    /// command line names, for a process that runs elsewhere (the restored server's
    /// `restore_command` runs in PGDATA; the read-ahead worker starts detached).
    public static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    /// Removes `.`, `..` and empty components of an absolute path.
    static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }
}
