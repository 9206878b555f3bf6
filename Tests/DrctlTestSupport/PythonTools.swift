import Foundation

/// The Python the tests run (moto's S3 server, boto3, aws-cli, the tests' own scripts): the
/// virtual environment scripts/install-deps.sh makes, `$DRCTL_VENV` or else `.venv` at the top
/// of the checkout. Never whichever `python3` comes first on PATH: Debian's own cannot have
/// these packages installed with pip (PEP 668), so the suite would pass or fail by machine.
public enum PythonTools {
    /// The environment's directory.
    public static var environment: String {
        if let configured = ProcessInfo.processInfo.environment["DRCTL_VENV"], !configured.isEmpty {
            return configured
        }
        return PostgresCluster.repoRoot.appendingPathComponent(".venv").path
    }

    /// The environment's interpreter.
    public static var python: String { get throws { try program("python3") } }

    /// The environment's aws-cli.
    public static var aws: String { get throws { try program("aws") } }

    private static func program(_ name: String) throws -> String {
        let path = "\(environment)/bin/\(name)"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestFailure("\(path) is missing: run scripts/install-deps.sh, which makes the virtual environment "
                              + "of the PyPI test tools (or set DRCTL_VENV to one that has them)")
        }
        return path
    }
}
