import Foundation
import Testing
@testable import DrctlPolicy

@Suite struct ValidPolicyTests {
    @Test func minimalPolicyLoadsWithDefaults() throws {
        let workspace = try Workspace()
        let policy = try workspace.load(minimalPolicy)
        #expect(policy.sourcePath == workspace.policyPath)
        #expect(policy.repository.regions.count == 1)
        #expect(policy.repository.regions[0].name == "local")
        #expect(policy.repository.regions[0].location == .directory(workspace.directory + "/repo"))
        #expect(policy.repository.regions[0].timeout == nil)
        #expect(policy.repository.regions[0].s3 == nil)
        #expect(policy.repository.minRegions == 1)
        #expect(policy.repository.compression == CompressionPolicy(level: 3, threads: 0))
        #expect(policy.repository.encryption == EncryptionPolicy(keyFile: workspace.directory + "/keys/backup.key"))
        let target = try #require(policy.target(named: "app"))
        #expect(target.kind == .command)
        #expect(target.command == ["tar", "-cf", "-", "/srv"])
        #expect(target.environment.isEmpty)
        #expect(target.schedule == nil && target.timezone == nil && target.retention == nil)
        #expect(target.objectives == nil && target.drill == nil && target.postgres == nil && target.redis == nil)
        #expect(target.mode == nil)
        #expect(target.timeZone.secondsFromGMT(for: Date()) == 0)
        #expect(policy.target(named: "other") == nil)
    }

    @Test func relativePathsResolveAgainstThePolicyDirectory() throws {
        let workspace = try Workspace()
        let yaml = minimalPolicy
            .replacingOccurrences(of: "url: repo", with: "url: ./data/../repos/main/")
            .replacingOccurrences(of: "key_file: keys/backup.key", with: "key_file: ./keys/../keys/backup.key\n    public_key_file: keys/backup.pub")
        let policy = try workspace.load(yaml)
        #expect(policy.repository.regions[0].location == .directory(workspace.directory + "/repos/main"))
        #expect(policy.repository.encryption.keyFile == workspace.directory + "/keys/backup.key")
        #expect(policy.repository.encryption.publicKeyFile == workspace.directory + "/keys/backup.pub")
    }

    @Test func loadFromFileUsesTheFilesDirectory() throws {
        let workspace = try Workspace()
        try Data(minimalPolicy.utf8).write(to: URL(fileURLWithPath: workspace.policyPath))
        let policy = try PolicyLoader.load(path: workspace.policyPath)
        #expect(policy.repository.regions[0].location == .directory(workspace.directory + "/repo"))
    }

    @Test func exampleLoads() throws {
        let workspace = try Workspace()
        let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let example = try String(contentsOf: repositoryRoot.appendingPathComponent("policies/example.yaml"), encoding: .utf8)
        // The example's key paths are relative (keys/backup.key): the workspace has them.
        let policy = try workspace.load(example)
        let repository = policy.repository
        #expect(repository.regions.map(\.name) == ["local", "eu-west"])
        #expect(repository.regions[0].location == .directory("/var/lib/drctl/repo"))
        #expect(repository.regions[0].timeout == .seconds(300))
        #expect(repository.regions[1].location == .s3(bucket: "acme-backups", prefix: "drctl/prod"))
        let s3 = try #require(repository.regions[1].s3)
        #expect(s3.endpoint == "https://s3.eu-west-1.amazonaws.com")
        #expect(s3.region == "eu-west-1")
        #expect(s3.accessKeyID == .env("AWS_ACCESS_KEY_ID"))
        #expect(s3.secretAccessKey == .file("/run/secrets/aws_secret_access_key"))
        #expect(s3.sessionToken == .env("AWS_SESSION_TOKEN"))
        #expect(s3.caFile == "/etc/ssl/certs/ca-certificates.crt")
        #expect(!s3.pathStyle && !s3.insecureSkipTLSVerify)
        #expect(s3.checksums)
        #expect(repository.encryption.publicKeyFile == workspace.directory + "/keys/backup.pub")
        #expect(policy.targets.map(\.name) == ["app-files", "main-db", "cache"])

        let files = try #require(policy.target(named: "app-files"))
        #expect(files.environment == ["API_TOKEN": .env("APP_TOKEN")])
        #expect(files.schedule?.text == "0 3 * * *")
        #expect(files.timeZone.identifier == "Europe/Berlin")
        #expect(files.retention == RetentionPolicy(keepLast: 7, keepDaily: 7, keepWeekly: 4, keepMonthly: 12,
                                               minAge: .seconds(172_800), leftoverGrace: .seconds(86_400)))
        #expect(files.objectives == Objectives(rpo: .seconds(86_400), rto: .seconds(3_600)))
        #expect(files.drill?.schedule?.text == "0 5 1 * *")

        let database = try #require(policy.target(named: "main-db"))
        #expect(database.mode == .logical)
        #expect(database.postgres == PostgresConnection(host: "127.0.0.1", port: 5432, user: "backup",
                                                        password: .env("PGPASSWORD_MAIN"), databases: ["app"], sslmode: .prefer))
        #expect(database.objectives?.rpo == .seconds(5_400))
        #expect(database.drill?.checks.count == 3)
        #expect(database.drill?.checks.first == DrillCheck(sql: "select count(*) > 0 from users", expect: "t"))
        #expect(database.drill?.checks.last?.database == "postgres")
        #expect(database.drill?.pick == .random && database.drill?.window == .seconds(7 * 86_400))
        #expect(policy.metrics == MetricsPolicy(textfileDirectory: "/var/lib/node_exporter/textfile",
                                                pushgateway: "http://pushgateway.monitoring:9091"))
        #expect(policy.notifications == [
            NotificationChannel(kind: .webhook, url: "https://hooks.example.com/drctl", headers: ["Authorization": .env("DRCTL_WEBHOOK_TOKEN")]),
            NotificationChannel(kind: .slack, url: "https://hooks.slack.com/services/T000/B000/XXXX"),
            NotificationChannel(kind: .alertmanager, url: "http://alertmanager.monitoring:9093/api/v2/alerts"),
        ])
        #expect(policy.agent.listen == "127.0.0.1:9187" && policy.agent.jitter == .seconds(120))
        #expect(policy.agent.pruneSchedule?.text == "30 6 * * *" && policy.agent.reportDirectory == "/var/lib/drctl/reports")

        let cache = try #require(policy.target(named: "cache"))
        #expect(cache.redis == RedisConnection(host: "127.0.0.1", port: 6379, username: "default", password: .file("/run/secrets/redis")))
        #expect(cache.schedule?.text == "@daily")
        #expect(cache.mode == nil && cache.postgres == nil)
    }

    @Test func postgresDefaultsAndFileURLs() throws {
        let workspace = try Workspace()
        let yaml = """
        version: 1
        repository:
          regions:
            - {name: a, url: "file:///srv/backup%20one/"}
            - {name: b, url: "file://localhost/srv/b"}
          min_regions: 2
          encryption: {public_key_file: keys/backup.pub}
        targets:
          - name: db.main
            kind: postgres
            connection: {host: /var/run/postgresql}
            drill: {checks: [{sql: "select 1", expect: 1}]}
        """
        let policy = try workspace.load(yaml)
        #expect(policy.repository.regions.map(\.location) == [.directory("/srv/backup one"), .directory("/srv/b")])
        #expect(policy.repository.minRegions == 2)
        #expect(policy.repository.encryption.keyFile == nil)
        let target = try #require(policy.targets.first)
        #expect(target.mode == .logical)
        #expect(target.postgres == PostgresConnection(host: "/var/run/postgresql"))
        #expect(target.drill == DrillPolicy(enabled: true, schedule: nil, checks: [DrillCheck(sql: "select 1", expect: "1")]))
    }

    @Test func physicalTargetCheckpointAndWalWait() throws {
        let workspace = try Workspace()
        let policy = try workspace.load("""
        version: 1
        repository:
          regions: [{name: local, url: repo}]
          encryption: {key_file: keys/backup.key}
        targets:
          - name: db
            kind: postgres
            mode: physical
            connection: {host: /run/postgresql, checkpoint: spread, wal_wait_timeout: 90s}
          - name: db2
            kind: postgres
            mode: physical
            connection: {host: /run/postgresql}
        """)
        #expect(policy.targets[0].mode == .physical)
        #expect(policy.targets[0].postgres?.checkpoint == .spread)
        #expect(policy.targets[0].postgres?.walWaitTimeout == .seconds(90))
        #expect(policy.targets[1].postgres == PostgresConnection(host: "/run/postgresql", checkpoint: .fast, walWaitTimeout: .seconds(300)))
    }
}

@Suite struct DurationTests {
    @Test func parses() throws {
        #expect(try PolicyDuration.parse("90s") == .seconds(90))
        #expect(try PolicyDuration.parse("5m") == .seconds(300))
        #expect(try PolicyDuration.parse("1h30m") == .seconds(5_400))
        #expect(try PolicyDuration.parse("2d12h") == .seconds(216_000))
        #expect(PolicyDuration.format(.seconds(5_400)) == "1h30m")
        #expect(PolicyDuration.format(.seconds(86_401)) == "1d1s")
    }

    @Test func rejects() {
        for (text, fragment) in [("5", "has no unit"), ("5x", "unknown unit 'x'"), ("0s", "greater than 0"),
                                 ("30m1h", "largest first"), ("h", "needs a number"), ("", "expected a number")] {
            #expect(throws: PolicyValueError.self) { try PolicyDuration.parse(text) }
            do { _ = try PolicyDuration.parse(text) } catch { #expect(error.message.contains(fragment), "\(text): \(error.message)") }
        }
    }
}

@Suite struct SecretTests {
    @Test func resolvesEnvironmentAndFiles() throws {
        let workspace = try Workspace()
        let path = workspace.directory + "/secret"
        try Data("hunter2\r\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(try SecretReference.file(path).resolve() == "hunter2")
        #expect(try SecretReference.env("X").resolve(environment: ["X": "value"]) == "value")
        #expect(SecretReference.env("X").description == "{env: X}")
    }

    @Test func reportsMissingSecrets() throws {
        #expect { try SecretReference.env("DRCTL_TEST_UNSET").resolve(environment: [:]) } throws: { error in
            "\(error)".contains("environment variable DRCTL_TEST_UNSET is not set")
        }
        #expect { try SecretReference.file("/nonexistent/drctl/secret").resolve() } throws: { error in
            "\(error)" == "cannot read secret file /nonexistent/drctl/secret: No such file or directory"
        }
    }

    @Test func secretFilesAreNotCheckedAtValidation() throws {
        let workspace = try Workspace()
        let yaml = minimalPolicy + "\n    environment: {TOKEN: {file: /run/secrets/not-yet-mounted}}"
        let policy = try workspace.load(yaml)
        #expect(policy.targets[0].environment == ["TOKEN": .file("/run/secrets/not-yet-mounted")])
    }
}
