import ArgumentParser
import DrctlCrypto
import Foundation

struct KeygenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Create a new secret key (and optionally its public key); never overwrites a file.",
        discussion: """
            The secret key encrypts and decrypts backups. A host that only takes backups can hold \
            just the public key (encryption.public_key_file): it can then create backups but read none.
            """)

    @Option(name: .long, help: ArgumentHelp("Where to write the secret key (created 0600).", valueName: "KEY"))
    var out: String

    @Option(name: .long, help: ArgumentHelp("Where to write the public key (created 0600).", valueName: "PUB"))
    var publicOut: String?

    @OptionGroup var log: LogOptions

    func run() async throws {
        try await guarded {
            let key = SecretKey.generate()
            if let publicOut, publicOut == out {
                throw ValidationError("--out and --public-out must be different files")
            }
            for path in [out] + (publicOut.map { [$0] } ?? []) { try Self.createDirectory(of: path) }
            try key.write(to: out)
            if let publicOut { try key.publicKey.write(to: publicOut) }
            Output.line("key \(key.keyID) written to \(out)" + (publicOut.map { ", public key to \($0)" } ?? ""))
        }
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
}
