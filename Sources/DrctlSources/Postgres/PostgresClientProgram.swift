import Foundation

/// Finds a PostgreSQL client program (`pg_dump`, `pg_dumpall`, `pg_restore`, `psql`) the way a
/// shell would, on PATH, with one exception: Debian's `pg_wrapper`.
///
/// On Debian and Ubuntu `/usr/bin/pg_dump` and its siblings are links to
/// `postgresql-common/pg_wrapper`, a Perl script that picks a version and then runs
/// `/usr/lib/postgresql/<version>/bin/<program>`. Starting Perl took about 0.1 s of CPU per
/// program on the benchmark machine, and a restore starts up to five of them. For a program that
/// is not told which cluster to use (no `PGCLUSTER` in the environment), the wrapper runs the
/// newest installed version; drctl runs that binary directly. With `PGCLUSTER` set, the wrapper
/// is kept and chooses.
public enum PostgresClientProgram {
    /// The path to run `program` by; throws if PATH has none.
    public static func path(_ program: String, environment: [String: String] = ProcessInfo.processInfo.environment,
                            versionsDirectory: String = "/usr/lib/postgresql") throws -> String {
        let search = environment["PATH"] ?? "/usr/bin:/bin"
        guard let found = search.split(separator: ":").lazy.map({ "\($0)/\(program)" })
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw SourceError.cannotStart(program: program,
                                          reason: "not found in PATH (\(search)); install the PostgreSQL client tools")
        }
        guard environment["PGCLUSTER"] == nil, isDebianWrapper(found),
              let newest = newestInstalled(program, in: versionsDirectory) else { return found }
        return newest
    }

    static func isDebianWrapper(_ path: String) -> Bool {
        guard let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: path) else { return false }
        return resolved.hasSuffix("postgresql-common/pg_wrapper")
    }

    /// `<directory>/<newest major>/bin/<program>`, if any version has it.
    static func newestInstalled(_ program: String, in directory: String) -> String? {
        installedMajors(having: program, in: directory).last.map { "\(directory)/\($0)/bin/\(program)" }
    }

    /// The major versions under `directory` (`/usr/lib/postgresql/<major>/bin`) that have
    /// `program`, lowest first.
    public static func installedMajors(having program: String, in directory: String = "/usr/lib/postgresql") -> [Int] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .compactMap(Int.init).sorted()
            .filter { FileManager.default.isExecutableFile(atPath: "\(directory)/\($0)/bin/\(program)") }
    }
}
