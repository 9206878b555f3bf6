import ArgumentParser
import Foundation
import Logging
import DrctlPolicy

/// Options every command that reads the policy takes.
struct PolicyOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The policy file.", discussion: "Default: $DRCTL_POLICY, then /etc/drctl/policy.yaml.", valueName: "FILE"))
    var policy: String?

    @Option(name: .long, help: ArgumentHelp(
        "Where to keep the manifests and records read from S3 (the read cache), or off.",
        discussion: "Default: $DRCTL_CACHE_DIR, then the policy's repository.cache_dir, then /var/cache/drctl for root, "
            + "else ~/.cache/drctl.", valueName: "DIR"))
    var cacheDir: String?

    var policyPath: String {
        if let policy { return policy }
        if let fromEnvironment = ProcessInfo.processInfo.environment["DRCTL_POLICY"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return "/etc/drctl/policy.yaml"
    }

    /// The policy, with a warning on `logger` for each region whose TLS certificate goes unchecked.
    func load(warningOn logger: Logger) throws -> Policy {
        var policy = try PolicyLoader.load(path: policyPath)
        policy.repository.cacheDirectoryFromCommandLine = cacheDir.map { directory in
            directory == "off" || directory.isEmpty ? directory : PathText.absolute(directory)
        }
        for region in policy.repository.unverifiedTLSRegions {
            logger.warning("\(RepositoryPolicy.unverifiedTLSWarning)", metadata: [
                "region": "\(region.name)", "endpoint": "\(region.s3?.endpoint ?? "AWS")"])
        }
        return policy
    }
}

/// Which backups a command works on (verify, sync).
struct BackupSelection: ParsableArguments {
    @Option(name: .long, help: "Only this target's backups.")
    var target: String?

    @Option(name: .long, help: "Only this backup.")
    var backup: String?
}

/// Logging options; logs go to standard error, standard output carries data only.
struct LogOptions: ParsableArguments {
    @Option(name: .long, help: "Log format: text (for people) or json (one object per line, for log collectors).")
    var logFormat: LogFormat = .text

    @Option(name: .long, help: "Least severe level logged: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func bootstrap() -> Logger {
        LoggingBootstrap.once(format: logFormat, level: logLevel)
        return Logger(label: "drctl")
    }
}

enum LogFormat: String, ExpressibleByArgument, Sendable {
    case text, json
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
