import Foundation
import Testing
import DrctlTestSupport
@testable import DrctlSources

/// A libpq client program gets its password by a password file in memory, never by its
/// environment, and of drctl's variables only the libpq settings and the minimal ones.
@Suite struct PostgresClientEnvironmentTests {
    @Test func passwordByFileSettingsPassedSecretsNot() throws {
        let given = ["PATH": "/bin", "PGSSLROOTCERT": "/etc/ca.pem", "PGCLUSTER": "15/main", "KRB5CCNAME": "FILE:/tmp/cc",
                     "PGPASSWORD": "from drctl", "DB_SECRET": "policy secret", "AWS_SECRET_ACCESS_KEY": "key"]
        let client = try ChildEnvironment.postgresClient(password: "given", from: given)
        #expect(client.variables == ["PATH": "/bin", "PGSSLROOTCERT": "/etc/ca.pem", "PGCLUSTER": "15/main",
                                     "KRB5CCNAME": "FILE:/tmp/cc", "PGPASSFILE": "/proc/self/fd/3"])
        #expect(client.file != nil)
        // Without a password of its own, drctl's PGPASSWORD goes by the file too.
        let fallback = try ChildEnvironment.postgresClient(password: nil, from: given)
        #expect(fallback.variables["PGPASSWORD"] == nil && fallback.variables["PGPASSFILE"] == "/proc/self/fd/3" && fallback.file != nil)
        // With neither, no file: an operator's PGPASSFILE or ~/.pgpass applies.
        let none = try ChildEnvironment.postgresClient(password: nil, from: ["PATH": "/bin", "PGPASSFILE": "/home/op/pgpass"])
        #expect(none.variables == ["PATH": "/bin", "PGPASSFILE": "/home/op/pgpass"] && none.file == nil)
        #expect(ChildEnvironment.postgresClientSettings(from: given).variables["PGPASSWORD"] == nil)
    }

    @Test func passwordLineEscapesAndRefusesLineBreaks() throws {
        #expect(try ChildEnvironment.passwordFileLine(#"a:b\c"#) == #"*:*:*:*:a\:b\\c"# + "\n")
        for broken in ["two\nlines", "carriage\rreturn", "crlf\r\n"] {
            #expect(throws: PostgresPasswordError.self) { try ChildEnvironment.passwordFileLine(broken) }
        }
    }

    /// The child reads the file (0600, so libpq accepts it) as often as it opens it, while its
    /// environment holds only the path.
    @Test func childReadsThePrivateFile() throws {
        let client = try ChildEnvironment.postgresClient(password: "pw:1", from: ["PATH": "/usr/bin:/bin"])
        let run = try ChildProcess.run(["sh", "-c", #"stat -L -c %a "$PGPASSFILE"; cat "$PGPASSFILE"; cat "$PGPASSFILE"; env"#],
                                       environment: client)
        #expect(run.exit.succeeded, "\(run.stderr)")
        #expect(run.stdout.hasPrefix("600\n*:*:*:*:pw\\:1\n*:*:*:*:pw\\:1\n"), "\(run.stdout)")
        #expect(!run.stdout.contains("pw:1"), "the password in the environment: \(run.stdout)")
    }

    /// psql logs in over TCP (SCRAM) with a password holding the characters the file escapes.
    @Test func libpqLogsInWithIt() throws {
        let password = #"p:a\ss word"#
        let pg = try PostgresCluster.start(superuserPassword: password)
        let argv = ["\(PostgresCluster.binDir)/psql", "-X", "-At", "--no-password", "-h", "127.0.0.1", "-p", "\(pg.port)",
                    "-U", "postgres", "-d", "postgres", "-c", "SELECT 'logged in'"]
        let run = try ChildProcess.run(argv, environment: try .postgresClient(password: password, from: ["PATH": "/usr/bin:/bin"]))
        #expect(run.exit.succeeded && run.stdout == "logged in\n", "\(run.exit) \(run.stderr)")
        let wrong = try ChildProcess.run(argv, environment: try .postgresClient(password: "p:a", from: ["PATH": "/usr/bin:/bin"]))
        #expect(!wrong.exit.succeeded && wrong.stderr.contains("password authentication failed"), "\(wrong.stderr)")
    }
}
