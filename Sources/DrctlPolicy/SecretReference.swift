import Foundation

/// Where a secret lives. Policies never contain secrets, only references to them; a reference is
/// resolved when the secret is needed (not when the policy is validated: secret files may be
/// mounted later).
public enum SecretReference: Sendable, Equatable, CustomStringConvertible {
    /// The value of an environment variable of the drctl process.
    case env(String)
    /// The contents of a file (absolute path), without trailing line breaks.
    case file(String)

    /// Reads the secret. Throws `SecretError` if the variable is unset or the file unreadable.
    public func resolve() throws -> String {
        try resolve(environment: ProcessInfo.processInfo.environment)
    }

    /// Reads the secret, taking environment variables from `environment`.
    public func resolve(environment: [String: String]) throws -> String {
        switch self {
        case .env(let name):
            guard let value = environment[name] else {
                throw SecretError("environment variable \(name) is not set (a policy secret refers to it)")
            }
            return value
        case .file(let path):
            let data = try readFile(path)
            guard var text = String(data: data, encoding: .utf8) else {
                throw SecretError("secret file \(path) is not UTF-8 text")
            }
            while let last = text.unicodeScalars.last, last == "\n" || last == "\r" {
                text.unicodeScalars.removeLast()
            }
            return text
        }
    }

    /// Names the reference, never the secret.
    public var description: String {
        switch self {
        case .env(let name): return "{env: \(name)}"
        case .file(let path): return "{file: \(path)}"
        }
    }

    private func readFile(_ path: String) throws -> Data {
        do {
            return try FileIO.contents(of: path)
        } catch {
            throw SecretError("cannot read secret file \(path): \(error.reason)")
        }
    }
}

public struct SecretError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
