import Foundation
import Testing
@testable import DrctlPolicy

/// `repository.encryption`'s keys of format version 2: the host's signing key, the writers
/// readers accept, and the pinned wrap scheme.
@Suite struct EncryptionPolicyTests {
    let workspace: Workspace

    init() throws {
        workspace = try Workspace()
        for name in ["host.sig", "a.writer", "b.writer"] {
            try Data("key\n".utf8).write(to: URL(fileURLWithPath: "\(workspace.directory)/keys/\(name)"))
        }
    }

    /// The minimal policy with `lines` as the `encryption:` mapping (its first line is line 7).
    func policy(_ lines: [String]) -> String {
        minimalPolicy.replacingOccurrences(of: "  encryption:\n    key_file: keys/backup.key",
                                           with: "  encryption:\n" + lines.map { "    \($0)" }.joined(separator: "\n"))
    }

    func key(_ name: String) -> String { "\(workspace.directory)/keys/\(name)" }

    @Test func publicKeyModeWithSigningKeyWritersAndScheme() throws {
        let loaded = try workspace.load(policy([
            "public_key_file: keys/backup.pub", "signing_key_file: keys/host.sig",
            "writers: [keys/a.writer, \(key("b.writer"))]", "scheme: x25519",
        ]))
        #expect(loaded.repository.encryption == EncryptionPolicy(
            publicKeyFile: key("backup.pub"), signingKeyFile: key("host.sig"),
            writers: [key("a.writer"), key("b.writer")], scheme: .x25519))
    }

    @Test func symmetricSchemeAndNoVersion2Keys() throws {
        let pinned = try workspace.load(policy(["key_file: keys/backup.key", "scheme: symmetric"]))
        #expect(pinned.repository.encryption == EncryptionPolicy(keyFile: key("backup.key"), scheme: .symmetric))
        let plain = try workspace.load(minimalPolicy)
        #expect(plain.repository.encryption.signingKeyFile == nil && plain.repository.encryption.writers.isEmpty
                && plain.repository.encryption.scheme == nil)
    }

    @Test func missingSigningKeyFile() throws {
        let problems = workspace.problems(policy(["public_key_file: keys/backup.pub", "signing_key_file: keys/gone.sig"]))
        expectProblem(problems, line: 8, column: 23, path: "repository.encryption.signing_key_file",
                      "signing key file \(key("gone.sig")) (relative to the policy's directory) does not exist")
    }

    @Test func missingWriterKeyFileIsNamedByItsIndex() throws {
        let problems = workspace.problems(policy(["public_key_file: keys/backup.pub", "writers:", "  - keys/a.writer", "  - keys/gone.writer"]))
        expectProblem(problems, line: 10, column: 9, path: "repository.encryption.writers[1]",
                      "writer key file \(key("gone.writer")) (relative to the policy's directory) does not exist")
    }

    @Test func writersMustBeAListOfFiles() throws {
        expectProblem(workspace.problems(policy(["public_key_file: keys/backup.pub", "writers: keys/a.writer"])),
                      line: 8, column: 14, path: "repository.encryption.writers", "expected a list of writer key files")
        expectProblem(workspace.problems(policy(["public_key_file: keys/backup.pub", "writers: []"])),
                      line: 8, column: 14, path: "repository.encryption.writers", "must not be empty")
        expectProblem(workspace.problems(policy(["public_key_file: keys/backup.pub", "writers: [keys/a.writer, keys/./a.writer]"])),
                      line: 8, column: 30, path: "repository.encryption.writers[1]", "lists \(key("a.writer")) twice")
    }

    @Test func unknownSchemeWithSuggestion() throws {
        let problems = workspace.problems(policy(["public_key_file: keys/backup.pub", "scheme: x2551"]))
        expectProblem(problems, line: 8, column: 13, path: "repository.encryption.scheme",
                      "unknown encryption scheme \"x2551\": expected symmetric or x25519; did you mean 'x25519'?")
    }

    @Test func unknownKeyWithSuggestion() throws {
        let problems = workspace.problems(policy(["public_key_file: keys/backup.pub", "signing_key: keys/host.sig"]))
        expectProblem(problems, line: 8, column: 5, path: "repository.encryption.signing_key",
                      "unknown key 'signing_key'; did you mean 'signing_key_file'?")
    }

    @Test func symmetricSchemeNeedsTheSecretKeyAlone() throws {
        expectProblem(workspace.problems(policy(["public_key_file: keys/backup.pub", "scheme: symmetric"])),
                      line: 8, column: 13, path: "repository.encryption.scheme",
                      "scheme 'symmetric' wraps data keys with the secret key: it needs 'key_file'")
        expectProblem(workspace.problems(policy(["key_file: keys/backup.key", "public_key_file: keys/backup.pub", "scheme: symmetric"])),
                      line: 9, column: 13, path: "repository.encryption.scheme",
                      "scheme 'symmetric' wraps data keys with the secret key, but 'public_key_file' makes backups wrap them to "
                          + "the public key (x25519): remove 'public_key_file' or pin 'x25519'")
    }

    @Test func x25519SchemeNeedsThePublicKey() throws {
        expectProblem(workspace.problems(policy(["key_file: keys/backup.key", "scheme: x25519"])),
                      line: 8, column: 13, path: "repository.encryption.scheme",
                      "scheme 'x25519' wraps data keys to the public key: it needs 'public_key_file'")
    }
}
