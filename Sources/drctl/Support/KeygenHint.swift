import DrctlPolicy

/// The `drctl keygen` command that creates a policy's missing key files, read from the
/// validator's problems (`repository.encryption.key_file: key file PATH … does not exist`):
/// on a fresh clone the example policy's keys do not exist yet, and the fix is one command.
/// Only when the secret key is missing: keygen never overwrites, and a public key cannot be
/// made again from an existing secret key by it.
enum KeygenHint {
    static func command(for problems: [PolicyProblem]) -> String? {
        guard let secret = missingFile(problems, key: "key_file", noun: "key file") else { return nil }
        let publicKey = missingFile(problems, key: "public_key_file", noun: "public key file")
        return "drctl keygen --out \(shellQuoted(secret))" + (publicKey.map { " --public-out \(shellQuoted($0))" } ?? "")
    }

    private static func missingFile(_ problems: [PolicyProblem], key: String, noun: String) -> String? {
        let prefix = "\(noun) ", suffix = " does not exist", relative = " (relative to the policy's directory)"
        guard let problem = problems.first(where: { $0.keyPath == "repository.encryption.\(key)" }),
              problem.message.hasPrefix(prefix), problem.message.hasSuffix(suffix) else { return nil }
        var path = String(problem.message.dropFirst(prefix.count).dropLast(suffix.count))
        if path.hasSuffix(relative) { path.removeLast(relative.count) }
        return path
    }

    /// As a POSIX shell reads it back: bare when every character is plain, else in single quotes.
    static func shellQuoted(_ text: String) -> String {
        let plain = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@%,=")
        if !text.isEmpty && text.allSatisfy(plain.contains) { return text }
        return "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }
}
