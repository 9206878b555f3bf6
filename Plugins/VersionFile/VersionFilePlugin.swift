import Foundation
import PackagePlugin

/// Compiles the repository's `VERSION` file into the target as `DrctlBuildVersion.value`, so
/// `drctl version`, the Debian package (`scripts/package-deb.sh`) and the image (which installs
/// that package) all take their version from that one file. The file is an input of the build
/// command: editing it rebuilds, no stale version survives in `.build`.
@main
struct VersionFilePlugin: BuildToolPlugin {
    /// A Debian version without an epoch or revision (`0.1.0`, `1.2.0~rc1`): the package's
    /// version is the same string, so it must be one dpkg accepts as it is.
    static let script = #"""
        version=$(cat "$1")
        case "$version" in
          ""|*[!0-9A-Za-z.+~]*|[!0-9]*)
            echo "$1: '$version' is not a version (one line: a digit, then digits, letters, '.', '+' or '~')" >&2
            exit 1 ;;
        esac
        printf '// Generated from VERSION by Plugins/VersionFile; do not edit.\nenum DrctlBuildVersion {\n    static let value = "%s"\n}\n' "$version" > "$2"
        """#

    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let versionFile = context.package.directoryURL.appending(path: "VERSION")
        let generated = context.pluginWorkDirectoryURL.appending(path: "DrctlBuildVersion.swift")
        return [
            .buildCommand(
                displayName: "Compiling VERSION into \(target.name)",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: ["-c", Self.script, "version-file", versionFile.path, generated.path],
                inputFiles: [versionFile],
                outputFiles: [generated]),
        ]
    }
}
