import Foundation

/// Everything a child program starts with besides its argv and standard streams: its whole
/// environment, and at most one file (`file`, its descriptor 3).
///
/// A child never inherits drctl's environment. That environment holds what the policy's
/// `{env: NAME}` secrets refer to (and whatever else the operator exported, a restore's
/// `PGPASSWORD` too), and a child's environment is readable in `/proc/PID/environ` for as long as
/// it runs: a drill's scratch server for the whole drill. So a child gets the few variables
/// any program needs (`minimal`) and, named explicitly, what that program needs: a libpq
/// client its settings and its password by file (`postgresClient`), a `kind: command` program
/// the policy's `environment` for it.
public struct ChildEnvironment: Sendable {
    /// `NAME` → value, exactly what the child gets.
    public private(set) var variables: [String: String]
    /// Given to the child as its descriptor `fileDescriptor`; kept open here until the child
    /// has been started.
    public private(set) var file: MemoryFile?

    /// The descriptor number `file` has in the child.
    public static let fileDescriptor: Int32 = 3
    /// The path by which the child opens `file` again (from the start, each time).
    public static let filePath = "/proc/self/fd/\(fileDescriptor)"

    /// Exactly `variables`, no file.
    public init(_ variables: [String: String] = [:]) {
        self.variables = variables
    }

    /// The variables passed to every child: where programs and home are, the locale and time
    /// zone, the temporary directory, the loader's library path. None of them is a secret.
    public static let minimalNames: Set<String> = ["PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR",
                                                   "LD_LIBRARY_PATH"]

    /// `minimalNames` and the `LC_*` variables, taken from `environment` (drctl's).
    public static func minimal(from environment: [String: String] = ProcessInfo.processInfo.environment) -> ChildEnvironment {
        ChildEnvironment(environment.filter { minimalNames.contains($0.key) || $0.key.hasPrefix("LC_") })
    }

    /// These variables added (replacing any of the same name).
    public func adding(_ more: [String: String]) -> ChildEnvironment {
        var copy = self
        copy.variables.merge(more) { $1 }
        return copy
    }

    /// `file` given to the child as descriptor 3 (`filePath`), replacing any other.
    public func giving(_ file: MemoryFile) -> ChildEnvironment {
        var copy = self
        copy.file = file
        return copy
    }

    /// `NAME=value` strings, for execve.
    var entries: [String] { variables.map { "\($0.key)=\($0.value)" } }
}
