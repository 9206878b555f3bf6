import Foundation
import Testing

/// The command line's contract: output formats, logs, exit codes for usage and policy errors.
@Suite struct CLITests {
    @Test func jsonLogsAreOneObjectPerLine() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("t", ["echo", "x"])])
        let backup = try Drctl.run(["backup", "--policy", sandbox.policyPath, "--log-format", "json"])
        #expect(backup.status == 0, "\(backup)")
        let lines = backup.stderr.split(separator: "\n")
        #expect(lines.count >= 2)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["level"] != nil && object?["msg"] != nil && object?["ts"] != nil, "\(line)")
        }
        #expect(lines.contains { $0.contains("\"msg\":\"backup committed\"") && $0.contains("\"target\":\"t\"") })
    }

    @Test func policyFromEnvironment() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("t", ["echo", "x"])])
        let list = try Drctl.run(["list"], environment: ["DRCTL_POLICY": sandbox.policyPath])
        #expect(list.status == 0 && list.stdout.contains("no backups"), "\(list)")
        let missing = try Drctl.run(["list", "--policy", "\(sandbox.root)/nope.yaml"])
        #expect(missing.status == 2 && missing.stderr.contains("nope.yaml"), "\(missing)")
    }

    @Test func invalidPolicyIsReportedWithLocation() throws {
        let sandbox = try Sandbox()
        let path = "\(sandbox.root)/bad.yaml"
        try """
            version: 1
            repository:
              regions:
                - name: local
                  url: \(sandbox.repository)
              encryption:
                key_file: \(sandbox.keyPath)
            targets:
              - name: t
                kind: command
                command: ["echo"]
                shedule: "0 3 * * *"

            """.write(toFile: path, atomically: true, encoding: .utf8)
        let validate = try Drctl.run(["policy", "validate", path])
        #expect(validate.status == 2, "\(validate)")
        #expect(validate.stdout.contains("bad.yaml:12:5"), "\(validate)")
        #expect(validate.stdout.contains("targets[0].shedule") && validate.stdout.contains("schedule"), "\(validate)")
        // Every command refuses to run on it.
        let backup = try Drctl.run(["backup", "--policy", path])
        #expect(backup.status == 2 && backup.stderr.contains("shedule"), "\(backup)")
    }

    @Test func usageErrorsExitTwo() throws {
        let missingOption = try Drctl.run(["restore", "--target", "t"])
        #expect(missingOption.status == 2 && missingOption.stderr.contains("--to"), "\(missingOption)")
        let unknown = try Drctl.run(["frobnicate"])
        #expect(unknown.status == 2, "\(unknown)")
        #expect(try Drctl.run(["--help"]).status == 0)
    }

    /// A fresh clone has no keys: validating the example policy names the exact `drctl keygen`
    /// command that creates them (quoted for the shell), and that command works as printed.
    @Test func validatingWithoutKeysNamesTheKeygenCommand() throws {
        let sandbox = try Sandbox()
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let directory = "\(sandbox.root)/fresh clone/policies"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: root.appendingPathComponent("policies/example.yaml").path, toPath: "\(directory)/example.yaml")

        let missing = try Drctl.run(["policy", "validate", "\(directory)/example.yaml"])
        #expect(missing.status == 2, "\(missing)")
        let expected = "drctl keygen --out '\(directory)/keys/backup.key' --public-out '\(directory)/keys/backup.pub'"
        let line = try #require(missing.stderr.split(separator: "\n").first { $0.contains("drctl keygen") }, "\(missing)")
        #expect(line.hasSuffix(expected), "\(line)")

        // As printed, it creates both files (and their directory); then the policy is valid.
        let keygen = try Command.run(["/bin/sh", "-c", "drctl() { \"$0\" \"$@\"; }; " + expected, Drctl.binary])
        #expect(keygen.status == 0, "\(keygen)")
        let keys = try FileManager.default.attributesOfItem(atPath: "\(directory)/keys")
        #expect(keys[.posixPermissions] as? Int == 0o700, "the directory of a secret key is private")
        let underAFile = try Drctl.run(["keygen", "--out", "\(directory)/example.yaml/keys/backup.key"])
        #expect(underAFile.status == 1 && underAFile.stderr.contains("cannot create the directory \(directory)/example.yaml/keys")
                && underAFile.stderr.contains("Not a directory"), "\(underAFile)")
        let valid = try Drctl.run(["policy", "validate", "\(directory)/example.yaml"])
        #expect(valid.status == 0 && valid.stdout.contains("valid"), "\(valid)")
        #expect(!valid.stderr.contains("keygen"), "\(valid)")

        // A secret key that exists is never offered to be made again (keygen would refuse).
        try FileManager.default.removeItem(atPath: "\(directory)/keys/backup.pub")
        let onlyPublic = try Drctl.run(["policy", "validate", "\(directory)/example.yaml"])
        #expect(onlyPublic.status == 2 && !onlyPublic.stderr.contains("--out"), "\(onlyPublic)")
    }

    /// `restore --help` names every kind of destination, each with the targets it is for.
    @Test func restoreHelpNamesEveryDestination() throws {
        let help = try Drctl.run(["restore", "--help"])
        #expect(help.status == 0, "\(help)")
        let text = help.stdout.replacingOccurrences(of: #"\s+"#, with: " ", options: .regularExpression)
        for form in ["--to FILE", "--to -", "--to DIR", "--to postgres://USER@HOST:PORT"] {
            #expect(text.contains(form), "\(form) in \(help.stdout)")
        }
        #expect(text.contains("PGPASSWORD"), "where the server password comes from: \(help.stdout)")
    }

    @Test func versionListsTheCLibraries() throws {
        let version = try Drctl.run(["version", "--json"])
        #expect(version.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(version.stdout.utf8)) as? [String: Any]
        let libraries = object?["libraries"] as? [String: String] ?? [:]
        #expect(Set(libraries.keys) == ["zstd", "openssl", "libcurl", "libpq"])
    }

    /// The version is the repository's VERSION file, the one the Debian package is named by
    /// (scripts/package-deb.sh), in `version`, `version --json` and `--version`.
    @Test func versionIsTheVersionFile() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let expected = try String(contentsOf: root.appendingPathComponent("VERSION"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let json = try Drctl.run(["version", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["drctl"] as? String == expected, "\(json)")
        #expect(try Drctl.run(["version"]).stdout.hasPrefix("drctl \(expected)\n"))
        #expect(try Drctl.run(["--version"]).stdout == "drctl \(expected)\n")
    }

    /// Not a terminal: no progress line, no escape codes in what a cron mail would show.
    @Test func silentWhenNotATerminal() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("t", ["head", "-c", "5000000", "/dev/zero"])])
        let backup = try sandbox.drctl(["backup"])
        #expect(backup.status == 0)
        #expect(!backup.stderr.contains("\u{1B}[") && !backup.stderr.contains("\r"), "\(backup)")
    }

    /// On a terminal (script(1) gives it one) the progress line appears.
    @Test func progressOnATerminal() throws {
        let sandbox = try Sandbox()
        try sandbox.writePolicy(targets: [("t", ["sh", "-c", "head -c 3000000 /dev/urandom; sleep 1.2; head -c 1000 /dev/zero"])])
        let result = try Command.run(["/usr/bin/script", "-qec", "\(Drctl.binary) backup --policy \(sandbox.policyPath)", "/dev/null"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("backup t: ") && result.stdout.contains("/s"), "\(result)")
    }
}
