import Foundation

/// A validated policy (schema version 1). Only `PolicyLoader` makes one, and only when the
/// policy file had no problems at all: every value the user wrote is represented here.
/// Paths are absolute (relative paths in the file are resolved against the policy's directory).
public struct Policy: Sendable {
    /// The policy file as it was named to the loader (used in problem messages).
    public var sourcePath: String
    public var repository: RepositoryPolicy
    public var targets: [TargetPolicy]
    /// `drctl agent`'s settings (all defaults when the policy has no `agent:`).
    public var agent = AgentSettings()
    /// Where one-shot runs leave their Prometheus metrics; nil = nowhere.
    public var metrics: MetricsPolicy?
    /// Told when a drill fails or misses an objective.
    public var notifications: [NotificationChannel] = []

    public init(sourcePath: String, repository: RepositoryPolicy, targets: [TargetPolicy]) {
        self.sourcePath = sourcePath
        self.repository = repository
        self.targets = targets
    }

    public func target(named name: String) -> TargetPolicy? {
        targets.first { $0.name == name }
    }
}

public struct RepositoryPolicy: Sendable {
    /// In policy order: restore tries them in this order.
    public var regions: [RegionPolicy]
    /// The quorum: a backup with fewer regions than this fails. 1...regions.count, default 1.
    public var minRegions: Int
    public var compression: CompressionPolicy
    public var encryption: EncryptionPolicy
    /// `id`: the repository id every region's repository.json must hold (docs/FORMAT.md,
    /// "Identity: repository id and target"); nil: taken from the regions.
    public var id: String?
    /// `lock_lifetime`: how long a target's lock stays valid unless renewed (renewed every third
    /// of it). A run that died on another host blocks the target this long. 30 s…600 s.
    public var lockLifetime: Duration = RepositoryPolicy.defaultLockLifetime
    /// `cache_dir`: where this host keeps the manifests and records it read from S3 (the read
    /// cache, `ObjectCache`): an absolute path, or `off`. `$DRCTL_CACHE_DIR` overrides it;
    /// nil: the default.
    public var cacheDirectory: String?
    /// `--cache-dir`, given on the command line (not a policy key): above `$DRCTL_CACHE_DIR`
    /// and `cache_dir`.
    public var cacheDirectoryFromCommandLine: String?

    public static let defaultLockLifetime: Duration = .seconds(600)
    /// The bounds of `lock_lifetime`: renewals every 10 s at most, and no longer than readers
    /// honour (docs/FORMAT.md, "Readers' rules": 600 s).
    public static let lockLifetimeRange: ClosedRange<Duration> = .seconds(30) ... .seconds(600)

    public init(regions: [RegionPolicy], minRegions: Int, compression: CompressionPolicy, encryption: EncryptionPolicy) {
        self.regions = regions
        self.minRegions = minRegions
        self.compression = compression
        self.encryption = encryption
    }

    public func region(named name: String) -> RegionPolicy? {
        regions.first { $0.name == name }
    }

    /// Regions whose endpoint's TLS certificate is not checked (`insecure_skip_tls_verify`): every
    /// command that reads the policy says so, loudly, in these words.
    public var unverifiedTLSRegions: [RegionPolicy] {
        regions.filter { $0.s3?.insecureSkipTLSVerify == true }
    }

    public static let unverifiedTLSWarning = "insecure_skip_tls_verify: TLS certificate verification is OFF; "
        + "anyone on the network path can pose as the region's endpoint and read or alter what is sent"
}

public enum RegionLocation: Sendable, Equatable {
    /// A local (or mounted) directory; always an absolute, normalised path.
    case directory(String)
    /// `s3://bucket/prefix`; `prefix` has no leading or trailing slash and may be empty.
    case s3(bucket: String, prefix: String)
}

public struct RegionPolicy: Sendable {
    public var name: String
    public var location: RegionLocation
    /// A region that makes no progress for this long is dropped from the running backup.
    /// nil: not set, `defaultTimeout` applies.
    public var timeout: Duration?
    /// `read_deadline`: how long one request to the region (a listing, a lock, a record, with
    /// its retries) may take before the region counts as not answering. nil: not set, 10 s.
    public var readDeadline: Duration?

    /// A backup drops a region that makes no progress for a minute (the transport's own stall
    /// timeout): a frozen endpoint costs the backup one minute, not the minutes of retries.
    public static let defaultTimeout: Duration = .seconds(60)
    /// The bounds of `read_deadline`.
    public static let readDeadlineRange: ClosedRange<Duration> = .seconds(1) ... .seconds(300)
    /// Connection settings; non-nil exactly when `location` is `.s3`.
    public var s3: S3Settings?

    public init(name: String, location: RegionLocation, timeout: Duration? = nil, s3: S3Settings? = nil) {
        self.name = name
        self.location = location
        self.timeout = timeout
        self.s3 = s3
    }
}

/// Settings of an `s3://` region. All optional in the policy.
public struct S3Settings: Sendable, Equatable {
    /// `http://` or `https://` URL of an S3-compatible endpoint; nil = AWS for `region`.
    public var endpoint: String?
    /// The signing region (`us-east-1` when nil).
    public var region: String?
    /// Path-style addressing (`endpoint/bucket/key`) instead of virtual-host style. Default false.
    public var pathStyle: Bool
    public var accessKeyID: SecretReference?
    public var secretAccessKey: SecretReference?
    public var sessionToken: SecretReference?
    /// Absolute path of a PEM CA bundle to trust for this endpoint.
    public var caFile: String?
    /// Default false. Only for test endpoints: anyone on the path can pose as the endpoint.
    public var insecureSkipTLSVerify: Bool
    /// Each body's SHA-256 as an S3 additional checksum (`x-amz-checksum-sha256`). Default true;
    /// false for endpoints that refuse the headers (Backblaze B2, OVH, older S3-compatible servers).
    public var checksums: Bool

    public init(endpoint: String? = nil, region: String? = nil, pathStyle: Bool = false,
                accessKeyID: SecretReference? = nil, secretAccessKey: SecretReference? = nil,
                sessionToken: SecretReference? = nil, caFile: String? = nil, insecureSkipTLSVerify: Bool = false,
                checksums: Bool = true) {
        self.endpoint = endpoint
        self.region = region
        self.pathStyle = pathStyle
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.caFile = caFile
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.checksums = checksums
    }
}

public struct CompressionPolicy: Sendable, Equatable {
    /// zstd level, 1...19. Default 3.
    public var level: Int32
    /// zstd worker threads, 0...256; 0 = one per core. Default 0.
    public var threads: Int

    public init(level: Int32 = 3, threads: Int = 0) {
        self.level = level
        self.threads = threads
    }
}

public struct EncryptionPolicy: Sendable, Equatable {
    /// Absolute path of the secret key file (encrypts and decrypts). At least one of the two is set.
    public var keyFile: String?
    /// Absolute path of the public key file; when set, backups are encrypted to it.
    public var publicKeyFile: String?
    /// `signing_key_file`: absolute path of this host's signing key file (public-key mode's
    /// writer; symmetric mode derives its signing key from the secret key instead).
    public var signingKeyFile: String?
    /// `writers`: absolute paths of the writer key files whose signatures readers accept,
    /// besides the secret key's own (symmetric mode).
    public var writers: [String]
    /// `scheme`: the one wrap scheme this repository's manifests may use; nil when not pinned.
    public var scheme: EncryptionScheme?

    public init(keyFile: String? = nil, publicKeyFile: String? = nil, signingKeyFile: String? = nil,
                writers: [String] = [], scheme: EncryptionScheme? = nil) {
        self.keyFile = keyFile
        self.publicKeyFile = publicKeyFile
        self.signingKeyFile = signingKeyFile
        self.writers = writers
        self.scheme = scheme
    }
}

/// How backups' data keys are wrapped (docs/FORMAT.md, "Wrapped data key"), as a policy pins it:
/// a manifest wrapped with the other scheme was not written by this repository's hosts.
public enum EncryptionScheme: String, Sendable, CaseIterable {
    /// With the secret key (`key_file`, no `public_key_file`).
    case symmetric
    /// To the public key (`public_key_file`).
    case x25519
}

public enum TargetKind: String, Sendable, CaseIterable {
    case command, postgres, redis
}

public enum PostgresMode: String, Sendable, CaseIterable {
    case logical, physical
}

/// The checkpoint a physical base backup starts with: `fast` (at once, at the cost of a burst of
/// writes) or `spread` (paced by `checkpoint_completion_target`, so the backup starts later).
public enum PostgresCheckpoint: String, Sendable, CaseIterable {
    case fast, spread
}

public enum PostgresSSLMode: String, Sendable, CaseIterable {
    case disable, allow, prefer, require
    case verifyCA = "verify-ca"
    case verifyFull = "verify-full"
}

public struct TargetPolicy: Sendable {
    public var name: String
    public var kind: TargetKind
    /// argv of the program whose stdout is the backup (kind command; empty otherwise).
    public var command: [String]
    /// Extra environment variables for the program (kind command; empty otherwise).
    public var environment: [String: SecretReference]
    public var schedule: CronExpression?
    /// IANA time zone name for `schedule` and `drill.schedule`; nil = UTC (see `timeZone`).
    public var timezone: String?
    public var retention: RetentionPolicy?
    public var objectives: Objectives?
    public var drill: DrillPolicy?
    /// Set exactly when kind is postgres.
    public var postgres: PostgresConnection?
    /// Set exactly when kind is redis.
    public var redis: RedisConnection?
    /// Set exactly when kind is postgres (default .logical).
    public var mode: PostgresMode?

    public init(name: String, kind: TargetKind, command: [String] = [], environment: [String: SecretReference] = [:],
                schedule: CronExpression? = nil, timezone: String? = nil, retention: RetentionPolicy? = nil,
                objectives: Objectives? = nil, drill: DrillPolicy? = nil, postgres: PostgresConnection? = nil,
                redis: RedisConnection? = nil, mode: PostgresMode? = nil) {
        self.name = name
        self.kind = kind
        self.command = command
        self.environment = environment
        self.schedule = schedule
        self.timezone = timezone
        self.retention = retention
        self.objectives = objectives
        self.drill = drill
        self.postgres = postgres
        self.redis = redis
        self.mode = mode
    }

    /// The zone schedules are evaluated in: `timezone`, or UTC when none is given.
    public var timeZone: TimeZone {
        timezone.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!
    }
}

/// How many backups `prune` keeps. A backup kept by any rule is kept. All counts ≥ 0; at least one
/// count > 0 or `minAge` set. The decision itself: `Retention.decide` (Retention.swift).
public struct RetentionPolicy: Sendable, Equatable {
    public var keepLast: Int
    public var keepHourly: Int
    public var keepDaily: Int
    public var keepWeekly: Int
    public var keepMonthly: Int
    public var keepYearly: Int
    /// Backups younger than this are never removed, whatever the counts say. nil: no minimum.
    public var minAge: Duration?
    /// Leftovers of failed or interrupted backups are removed by `prune` once older than this.
    /// nil: the default of `Retention.defaultLeftoverGrace` (24 h).
    public var leftoverGrace: Duration?

    public init(keepLast: Int = 0, keepHourly: Int = 0, keepDaily: Int = 0,
                keepWeekly: Int = 0, keepMonthly: Int = 0, keepYearly: Int = 0,
                minAge: Duration? = nil, leftoverGrace: Duration? = nil) {
        self.keepLast = keepLast
        self.keepHourly = keepHourly
        self.keepDaily = keepDaily
        self.keepWeekly = keepWeekly
        self.keepMonthly = keepMonthly
        self.keepYearly = keepYearly
        self.minAge = minAge
        self.leftoverGrace = leftoverGrace
    }
}

/// Recovery objectives; each > 0 when given, at least one given.
public struct Objectives: Sendable, Equatable {
    /// Recovery point objective: the newest recoverable point may be at most this old.
    public var rpo: Duration?
    /// Recovery time objective: a restore (drill) must be verified within this time.
    public var rto: Duration?

    public init(rpo: Duration? = nil, rto: Duration? = nil) {
        self.rpo = rpo
        self.rto = rto
    }
}

public struct DrillPolicy: Sendable, Equatable {
    /// Default true.
    public var enabled: Bool
    /// When drills run (in the target's time zone); nil = only when started by hand.
    public var schedule: CronExpression?
    /// Queries run against the restored instance (postgres only).
    public var checks: [DrillCheck]
    /// Default latest.
    public var pick: DrillPick = .latest
    /// `pick: random` draws from the backups of this last period (default 7 days).
    public var window: Duration?
    /// postgres only: restore drills into this running server instead of a scratch cluster
    /// (never the target's own server). `databases` is not used.
    public var into: PostgresConnection?

    public init(enabled: Bool = true, schedule: CronExpression? = nil, checks: [DrillCheck] = []) {
        self.enabled = enabled
        self.schedule = schedule
        self.checks = checks
    }
}

public struct DrillCheck: Sendable, Equatable {
    public var sql: String
    /// The expected result, compared as text with the first column of the first row.
    public var expect: String
    /// The restored database the query runs in; nil = the backup's first database other than `postgres`.
    public var database: String?

    public init(sql: String, expect: String, database: String? = nil) {
        self.sql = sql
        self.expect = expect
        self.database = database
    }
}

public struct PostgresConnection: Sendable, Equatable {
    /// Host name, IP address, or an absolute directory holding the server's Unix socket.
    public var host: String
    /// Default 5432.
    public var port: Int
    public var user: String?
    public var password: SecretReference?
    /// Databases to back up; empty = every database (logical mode). Ignored in physical mode.
    public var databases: [String]
    /// Default prefer.
    public var sslmode: PostgresSSLMode
    /// Physical mode: the base backup's checkpoint (default fast).
    public var checkpoint: PostgresCheckpoint
    /// Physical mode: how long a base backup waits for its WAL (start to end segment) to reach
    /// `min_regions` regions of the WAL archive before it fails (default 5 minutes).
    public var walWaitTimeout: Duration

    public static let defaultWalWaitTimeout: Duration = .seconds(300)

    public init(host: String, port: Int = 5432, user: String? = nil, password: SecretReference? = nil,
                databases: [String] = [], sslmode: PostgresSSLMode = .prefer, checkpoint: PostgresCheckpoint = .fast,
                walWaitTimeout: Duration = PostgresConnection.defaultWalWaitTimeout) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.databases = databases
        self.sslmode = sslmode
        self.checkpoint = checkpoint
        self.walWaitTimeout = walWaitTimeout
    }
}

public struct RedisConnection: Sendable, Equatable {
    public var host: String
    /// Default 6379.
    public var port: Int
    /// ACL user name (Redis 6+); nil = the default user.
    public var username: String?
    public var password: SecretReference?

    public init(host: String, port: Int = 6379, username: String? = nil, password: SecretReference? = nil) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
    }
}
