import Foundation
import Glibc
import DrctlSources

/// An initdb'd PostgreSQL data directory that drills copy instead of running `initdb` each time:
/// `<scratch root>/.templates/postgres-<major>/` holding `data/` (never started), `password`
/// (0600: the superuser's password in the template, replaced in every copy) and `stamp` (the
/// `initdb --version` output and the binaries' directory it was made with).
///
/// Why: `initdb` spends about a second creating ~1,000 files and bootstrapping the catalogs;
/// copying its result takes about a tenth of that. The first drill on a host (and the first
/// after a PostgreSQL upgrade, which changes the stamp) pays for `initdb`; later ones copy.
/// A template is built in `.templates/.build-<id>/` (with an `owner` file) and renamed into place
/// complete, so a drctl killed while building leaves nothing that looks usable; the next build
/// removes such leftovers.
struct PostgresTemplate: Sendable {
    let path: String
    let password: String

    var dataDirectory: String { "\(path)/data" }

    /// The template for `binDir`'s PostgreSQL under `templates`, built first if missing or stale.
    static func ready(in templates: String, binDir: String, runAs: String?) throws -> PostgresTemplate {
        let version = try ServerProgram.run(runAs, in: "/", ["\(binDir)/initdb", "--version"])
        guard version.exit.succeeded else {
            throw DrillError.instanceFailed(what: "PostgreSQL (initdb --version)", log: version.stderr)
        }
        let stamp = "\(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines))\n\(binDir)\n"
        let major = URL(fileURLWithPath: binDir).deletingLastPathComponent().lastPathComponent
        let path = "\(templates)/postgres-\(major)"
        if let existing = load(path, stamp: stamp) { return existing }

        try FileManager.default.createDirectory(atPath: templates, withIntermediateDirectories: true)
        chmod(templates, 0o711)
        removeAbandonedBuilds(in: templates)
        let build = "\(templates)/.build-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: build) }
        try makeOwnedDirectory(build, runAs: runAs)
        try ProcessIdentity.current().text.write(toFile: "\(build)/owner", atomically: false, encoding: .utf8)
        let password = ScratchPassword.random()
        let passwordFile = "\(build)/password"
        guard FileManager.default.createFile(atPath: passwordFile, contents: Data(password.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw DrillError.scratch("cannot write \(passwordFile): \(String(cString: strerror(errno)))")
        }
        try chownToServerUser(passwordFile, runAs: runAs)
        let initdb = try ServerProgram.run(runAs, in: build, [
            "\(binDir)/initdb", "-D", "\(build)/data", "-U", "postgres", "-E", "UTF8", "--locale=C",
            "--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile=\(passwordFile)", "--no-sync", "--no-instructions",
        ])
        guard initdb.exit.succeeded else {
            throw DrillError.instanceFailed(what: "PostgreSQL (initdb)", log: String((initdb.stdout + initdb.stderr).suffix(1500)))
        }
        try stamp.write(toFile: "\(build)/stamp", atomically: false, encoding: .utf8)
        unlink("\(build)/owner")
        // Replace a stale template; if another drill built the same one meanwhile, use theirs.
        if FileManager.default.fileExists(atPath: path), load(path, stamp: stamp) == nil {
            let stale = "\(templates)/.stale-\(UUID().uuidString.prefix(8))"
            if rename(path, stale) == 0 { try? FileManager.default.removeItem(atPath: stale) }
        }
        if rename(build, path) != 0, let theirs = load(path, stamp: stamp) {
            return theirs
        }
        guard let made = load(path, stamp: stamp) else {
            throw DrillError.scratch("cannot put the PostgreSQL template in place at \(path): \(String(cString: strerror(errno)))")
        }
        return made
    }

    /// The template at `path` if it was made by the binaries `stamp` names.
    private static func load(_ path: String, stamp: String) -> PostgresTemplate? {
        guard (try? String(contentsOfFile: "\(path)/stamp", encoding: .utf8)) == stamp,
              let password = try? String(contentsOfFile: "\(path)/password", encoding: .utf8),
              FileManager.default.fileExists(atPath: "\(path)/data/PG_VERSION") else { return nil }
        return PostgresTemplate(path: path, password: password)
    }

    /// `.build-*` directories whose drctl is gone (or whose owner file never got written and
    /// that are older than a minute), and `.stale-*` ones another drill failed to remove.
    private static func removeAbandonedBuilds(in templates: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: templates)) ?? [] {
            let directory = "\(templates)/\(name)"
            if name.hasPrefix(".stale-") {
                try? FileManager.default.removeItem(atPath: directory)
            } else if name.hasPrefix(".build-") {
                let owner = (try? String(contentsOfFile: "\(directory)/owner", encoding: .utf8)).flatMap(ProcessIdentity.init(text:))
                if owner?.isAlive == true { continue }
                let modified = (try? FileManager.default.attributesOfItem(atPath: directory)[.modificationDate] as? Date) ?? .distantPast
                if owner == nil, Date().timeIntervalSince(modified) < 60 { continue }
                try? FileManager.default.removeItem(atPath: directory)
            }
        }
    }

    /// A 0700 directory owned by the server's OS user.
    static func makeOwnedDirectory(_ path: String, runAs: String?) throws {
        guard mkdir(path, 0o700) == 0 else {
            throw DrillError.scratch("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        try chownToServerUser(path, runAs: runAs)
    }

    private static func chownToServerUser(_ path: String, runAs: String?) throws {
        guard let runAs else { return }
        guard let account = getpwnam(runAs) else {
            throw DrillError.scratch("running as root needs a '\(runAs)' OS user to run the scratch PostgreSQL server")
        }
        chown(path, account.pointee.pw_uid, account.pointee.pw_gid)
    }
}
