import ArgumentParser
import DrctlCrypto
import Foundation

struct KeygenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Create a new secret key (and optionally its public key), or with --signing a host's signing key; never overwrites a file.",
        discussion: """
            The secret key encrypts and decrypts backups. A host that only takes backups can hold \
            just the public key (encryption.public_key_file): it can then create backups but read none.

            With --signing: a signing key (encryption.signing_key_file, this host only) and its writer \
            key (--public-out), which every host lists in encryption.writers to accept what this host signs.
            """)

    @Flag(name: .long, help: "Create a signing key and its writer key (public-key mode's writers) instead of a secret key.")
    var signing = false

    @Option(name: .long, help: ArgumentHelp("Where to write the secret (or signing) key (created 0600).", valueName: "KEY"))
    var out: String

    @Option(name: .long, help: ArgumentHelp(
        "Write to --out the writer key of this existing secret key (what symmetric mode signs with) or signing key, for "
            + "encryption.writers: after a key rotation, list the old key's so that its backups stay readable.",
        valueName: "KEY"))
    var writerOf: String?

    @Option(name: .long, help: ArgumentHelp("Where to write the public (or writer) key (created 0600).", valueName: "PUB"))
    var publicOut: String?

    @OptionGroup var log: LogOptions

    func run() async throws {
        try await guarded {
            if let publicOut, publicOut == out {
                throw ValidationError("--out and --public-out must be different files")
            }
            for path in [out] + (publicOut.map { [$0] } ?? []) { try Self.createDirectory(of: path) }
            if let writerOf {
                try writeWriterKey(of: writerOf)
                return
            }
            if signing {
                try writeSigningKey()
                return
            }
            let key = SecretKey.generate()
            try key.write(to: out)
            if let publicOut { try key.publicKey.write(to: publicOut) }
            Output.line("key \(key.keyID) written to \(out)" + (publicOut.map { ", public key to \($0)" } ?? ""))
        }
    }

    /// The writer key file is checked first: a signing key whose writer key could not be
    /// written would sign what no reader accepts.
    private func writeSigningKey() throws {
        if let publicOut, FileManager.default.fileExists(atPath: publicOut) {
            throw KeyFileExists(description: "\(publicOut) already exists; drctl never overwrites a key file: move it away or choose another path")
        }
        let key = SigningKey.generate()
        try key.write(to: out)
        if let publicOut { try key.writerKey.write(to: publicOut) }
        Output.line("signing key \(key.signerID) written to \(out)" + (publicOut.map { ", writer key to \($0)" } ?? ""))
        Output.line("list the writer key in encryption.writers on every host, and name the signing key in this host's encryption.signing_key_file")
    }

    /// The writer key that readers accept the documents signed with `path`'s key by.
    private func writeWriterKey(of path: String) throws {
        let writer: WriterKey
        do {
            writer = SigningKey(derivedFrom: try SecretKey.load(path: path)).writerKey
        } catch let error as CryptoError where error.code == .wrongKeyKind {
            writer = try SigningKey.load(path: path).writerKey
        }
        try writer.write(to: out)
        Output.line("writer key \(writer.signerID) of \(path) written to \(out); list it in encryption.writers")
    }

    /// A key file's missing directories are created 0700, as `mkdir -p` would but private: a
    /// policy's `keys/` beside it does not exist in a fresh clone.
    private static func createDirectory(of path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        var current = directory.hasPrefix("/") ? "" : "."
        for part in directory.split(separator: "/") {
            current += "/\(part)"
            if mkdir(current, 0o700) != 0 && errno != EEXIST {
                throw KeyDirectoryError(description: "cannot create the directory \(current) for \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    struct KeyDirectoryError: Error, CustomStringConvertible {
        let description: String
    }

    struct KeyFileExists: Error, CustomStringConvertible {
        let description: String
    }
}
