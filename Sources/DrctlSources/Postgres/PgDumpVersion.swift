import Foundation

/// Runs `pg_dump --version` and refuses a `pg_dump` whose major version is older than the
/// server's: pg_dump cannot dump a newer server (it refuses, or misses newer catalog features).
/// A newer pg_dump is fine. Returns the version pg_dump reported, e.g. "15.20".
@discardableResult
public func checkPgDumpVersion(pgDumpPath: String, serverVersionNumber: Int) throws -> String {
    guard FileManager.default.isExecutableFile(atPath: pgDumpPath) else {
        throw PostgresError(.pgDumpUnusable,
            "pg_dump not found or not executable at \(pgDumpPath); install the PostgreSQL \(postgresMajorString(serverVersionNumber)) client tools (or newer) or set the path to pg_dump")
    }
    let outcome = try ChildProcess.run([pgDumpPath, "--version"], environment: .postgresClientSettings())
    let text = outcome.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    guard outcome.exit.succeeded, let number = parsePgDumpVersion(text) else {
        throw PostgresError(.pgDumpUnusable,
            "cannot read the version of \(pgDumpPath) (it \(outcome.exit), output \"\(text.prefix(200))\"); is it pg_dump?")
    }
    let reported = postgresVersionString(number)
    if postgresMajor(number) < postgresMajor(serverVersionNumber) {
        throw PostgresError(.pgDumpTooOld,
            "pg_dump at \(pgDumpPath) is version \(reported), older than the server (\(postgresVersionString(serverVersionNumber))): pg_dump cannot reliably dump a server of a newer major version. Install the PostgreSQL \(postgresMajorString(serverVersionNumber)) client tools or newer (e.g. the postgresql-client-\(postgresMajorString(serverVersionNumber)) package) and point drctl at that pg_dump; a newer pg_dump is fine.")
    }
    return reported
}

/// "pg_dump (PostgreSQL) 15.20 (Debian 15.20-1.pgdg120+1)" → 150020; "... 9.6.0" → 90600;
/// "... 16beta1" → 160000. nil if there is no version.
func parsePgDumpVersion(_ text: String) -> Int? {
    guard let line = text.split(whereSeparator: \.isNewline).first(where: { $0.contains("pg_dump") }) else {
        return nil
    }
    // The first token after "pg_dump" that starts with a digit.
    for token in line.split(separator: " ").drop(while: { !$0.contains("pg_dump") }) {
        guard token.first?.isNumber == true else { continue }
        var parts: [Int] = []
        var current = ""
        for ch in token {
            if ch.isNumber { current.append(ch) }
            else if ch == "." { parts.append(Int(current) ?? 0); current = "" }
            else { break }
        }
        if !current.isEmpty { parts.append(Int(current) ?? 0) }
        guard let major = parts.first else { return nil }
        if major >= 10 {
            return major * 10000 + (parts.count > 1 ? parts[1] : 0)
        }
        return major * 10000 + (parts.count > 1 ? parts[1] : 0) * 100 + (parts.count > 2 ? parts[2] : 0)
    }
    return nil
}
