import ArgumentParser
import DrctlCrypto

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
            try key.write(to: out)
            if let publicOut { try key.publicKey.write(to: publicOut) }
            Output.line("key \(key.keyID) written to \(out)" + (publicOut.map { ", public key to \($0)" } ?? ""))
        }
    }
}
