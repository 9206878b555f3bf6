import Foundation
import Yams

extension Node {
    /// The resolved tag's name (`Tag.name` itself is internal to Yams).
    var tagName: Tag.Name { Tag.Name(rawValue: tag.rawValue) }
}

/// Walks the YAML tree of a policy, building the model and collecting every problem.
final class PolicyValidator {
    let file: String
    let baseDirectory: String
    let document: YAMLDocument
    private(set) var problems: [PolicyProblem] = []
    private var reportedDuplicates: Set<Int> = []

    init(file: String, baseDirectory: String, document: YAMLDocument) {
        self.file = file
        self.baseDirectory = baseDirectory
        self.document = document
    }

    var sortedProblems: [PolicyProblem] {
        problems.enumerated().sorted {
            ($0.element.line, $0.element.column, $0.offset) < ($1.element.line, $1.element.column, $1.offset)
        }.map(\.element)
    }

    // MARK: - Reporting

    func report(_ node: Node?, _ path: String, _ message: String) {
        let (line, column) = node.map(document.location(of:)) ?? (0, 0)
        report(line: line, column: column, path, message)
    }

    func report(line: Int, column: Int, _ path: String, _ message: String) {
        problems.append(PolicyProblem(file: file, line: line, column: column, keyPath: path, message: message))
    }

    static func child(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    static func item(_ path: String, _ index: Int) -> String {
        "\(path)[\(index)]"
    }

    /// "a list", "a string \"abc\"", ... for type errors.
    static func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar):
            switch node.tagName {
            case .null: return "nothing (null)"
            case .int: return "the integer \(scalar.string)"
            case .float: return "the number \(scalar.string)"
            case .bool: return "the boolean \(scalar.string)"
            default:
                let text = scalar.string.count > 40 ? String(scalar.string.prefix(40)) + "..." : scalar.string
                return "the string \"\(text)\""
            }
        }
    }

    func typeError(_ node: Node, _ path: String, expected: String) {
        report(node, path, "expected \(expected), got \(Self.describe(node))")
    }

    // MARK: - Mappings

    struct Fields {
        var node: Node
        var path: String
        var entries: [String: (key: Node, value: Node)] = [:]

        subscript(_ key: String) -> Node? { entries[key]?.value }
        func keyNode(_ key: String) -> Node? { entries[key]?.key }
        func path(_ key: String) -> String { PolicyValidator.child(path, key) }
    }

    /// The string-keyed entries of a mapping, reporting duplicates, merge keys and non-string keys.
    func entries(of node: Node, _ path: String) -> [(key: String, keyNode: Node, value: Node)] {
        guard let mapping = node.mapping else { return [] }
        var result: [(String, Node, Node)] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                report(keyNode, path, "mapping keys must be plain strings, got \(Self.describe(keyNode))")
                continue
            }
            let key = scalar.string
            if let duplicate = document.duplicate(forKey: key) {
                let number = Int(key.dropFirst(YAMLDocument.placeholderPrefix.count).dropLast(2))!
                reportedDuplicates.insert(number)
                report(line: duplicate.line, column: duplicate.column, Self.child(path, duplicate.key),
                       "duplicate key '\(duplicate.key)' (first defined at line \(duplicate.firstLine))")
                continue
            }
            if keyNode.tagName == .merge {
                report(keyNode, path, "YAML merge keys ('<<') are not supported; write the keys out")
                continue
            }
            result.append((key, keyNode, value))
        }
        return result
    }

    /// Reads a mapping with a fixed set of keys, reporting unknown keys (with a suggestion).
    func mapping(_ node: Node, _ path: String, known: [String], expected: String = "a mapping") -> Fields? {
        guard node.mapping != nil else {
            typeError(node, path, expected: expected)
            return nil
        }
        var fields = Fields(node: node, path: path)
        for (key, keyNode, value) in entries(of: node, path) {
            guard known.contains(key) else {
                let hint = Suggest.nearest(to: key, in: known).map { "did you mean '\($0)'?" }
                    ?? "expected one of: \(known.joined(separator: ", "))"
                report(keyNode, Self.child(path, key), "unknown key '\(key)'; \(hint)")
                continue
            }
            fields.entries[key] = (keyNode, value)
        }
        return fields
    }

    func required(_ fields: Fields, _ key: String, _ note: String = "") -> Node? {
        if let value = fields[key] { return value }
        report(fields.node, fields.path(key), "missing required key '\(key)'\(note)")
        return nil
    }

    // MARK: - Scalars

    func string(_ node: Node, _ path: String, nonEmpty: Bool = true) -> String? {
        guard case .scalar(let scalar) = node, node.tagName != .null else {
            typeError(node, path, expected: "a string")
            return nil
        }
        if nonEmpty && scalar.string.isEmpty {
            report(node, path, "must not be empty")
            return nil
        }
        return scalar.string
    }

    func int(_ node: Node, _ path: String, _ range: ClosedRange<Int>) -> Int? {
        guard node.tagName == .int else {
            typeError(node, path, expected: "an integer")
            return nil
        }
        guard let value = node.int else {
            report(node, path, "\(node.string ?? "") is too large")
            return nil
        }
        guard range.contains(value) else {
            if range.upperBound == Int.max {
                report(node, path, "\(value) is out of range: must be \(range.lowerBound) or more")
            } else {
                report(node, path, "\(value) is out of range \(range.lowerBound)-\(range.upperBound)")
            }
            return nil
        }
        return value
    }

    func bool(_ node: Node, _ path: String) -> Bool? {
        guard node.tagName == .bool, let value = node.bool else {
            typeError(node, path, expected: "true or false")
            return nil
        }
        return value
    }

    func choice<T: RawRepresentable & CaseIterable>(_ node: Node, _ path: String, _ type: T.Type, what: String) -> T?
    where T.RawValue == String {
        guard let text = string(node, path) else { return nil }
        if let value = T(rawValue: text) { return value }
        let names = T.allCases.map(\.rawValue)
        let hint = Suggest.nearest(to: text, in: names).map { "; did you mean '\($0)'?" } ?? ""
        report(node, path, "unknown \(what) \"\(text)\": expected \(Self.alternatives(names))\(hint)")
        return nil
    }

    static func alternatives(_ names: [String]) -> String {
        names.count <= 1 ? names.joined() : names.dropLast().joined(separator: ", ") + " or " + names.last!
    }

    func duration(_ node: Node, _ path: String) -> Duration? {
        guard node.scalar != nil, node.tagName == .str || node.tagName == .int else {
            typeError(node, path, expected: "a duration such as 30s, 5m, 1h30m or 7d")
            return nil
        }
        do {
            return try PolicyDuration.parse(node.scalar!.string)
        } catch {
            report(node, path, error.message)
            return nil
        }
    }

    /// A duration within `range`, or nil (reported).
    func duration(_ node: Node, _ path: String, within range: ClosedRange<Duration>) -> Duration? {
        guard let value = duration(node, path) else { return nil }
        guard range.contains(value) else {
            report(node, path, "\(PolicyDuration.format(value)) is out of range: use \(PolicyDuration.format(range.lowerBound))"
                   + "…\(PolicyDuration.format(range.upperBound))")
            return nil
        }
        return value
    }

    func cron(_ node: Node, _ path: String) -> CronExpression? {
        guard let text = string(node, path) else { return nil }
        do {
            return try CronExpression(text)
        } catch {
            report(node, path, "invalid cron expression \"\(text)\": \(error.message)")
            return nil
        }
    }

    /// An IANA time zone name (`timezone:` of a target and of the agent).
    func timeZone(_ node: Node, _ path: String) -> String? {
        guard let text = string(node, path) else { return nil }
        guard TimeZone(identifier: text) != nil else {
            report(node, path, "unknown time zone \"\(text)\": expected an IANA name such as UTC or Europe/Berlin")
            return nil
        }
        return text
    }

    /// An `http://` or `https://` URL; `of` says what it points at, for the message.
    func httpURL(_ node: Node, _ path: String, of what: String = "") -> String? {
        guard let text = string(node, path) else { return nil }
        guard text.hasPrefix("http://") || text.hasPrefix("https://") else {
            report(node, path, "expected an http:// or https:// URL\(what.isEmpty ? "" : " of \(what)"), got \"\(text)\"")
            return nil
        }
        if let problem = HTTPURLText.problem(text) {
            report(node, path, "invalid URL\(what.isEmpty ? "" : " of \(what)") \"\(text)\": \(problem)")
            return nil
        }
        return text
    }

    func list(_ node: Node, _ path: String, expected: String, nonEmpty: Bool = true, emptyHint: String = "") -> [Node]? {
        guard let sequence = node.sequence else {
            typeError(node, path, expected: expected)
            return nil
        }
        let items = Array(sequence)
        if nonEmpty && items.isEmpty {
            report(node, path, "must not be empty\(emptyHint)")
            return nil
        }
        return items
    }

    /// A path in the policy; relative ones are relative to the policy's directory. Absolute result.
    func filePath(_ node: Node, _ path: String) -> String? {
        guard let text = string(node, path) else { return nil }
        if text.hasPrefix("~") {
            report(node, path, "'~' is not expanded; write the full path")
            return nil
        }
        return PathText.normalize(text.hasPrefix("/") ? text : baseDirectory + "/" + text)
    }

    static func matches(_ text: String, first: (Character) -> Bool, rest: (Character) -> Bool) -> Bool {
        guard let head = text.first, first(head) else { return false }
        return text.dropFirst().allSatisfy(rest)
    }

    static func isLowerAlnum(_ c: Character) -> Bool {
        c.isASCII && (c.isLowercase || c.isNumber)
    }

    // MARK: - Secrets

    static let secretRule = "secrets must be referenced by {env: NAME} or {file: PATH}, never written in the policy"

    func secret(_ node: Node, _ path: String) -> SecretReference? {
        if case .scalar = node, node.tagName != .null {
            report(node, path, Self.secretRule)  // never echo the value: it may be the secret
            return nil
        }
        guard node.mapping != nil else {
            report(node, path, "expected a secret reference {env: NAME} or {file: PATH}, got \(Self.describe(node))")
            return nil
        }
        let problemsBefore = problems.count
        guard let fields = mapping(node, path, known: ["env", "file"]) else { return nil }
        switch (fields["env"], fields["file"]) {
        case (let env?, nil):
            guard let name = string(env, fields.path("env")) else { return nil }
            guard Self.isEnvironmentName(name) else {
                report(env, fields.path("env"), "invalid environment variable name \"\(name)\"")
                return nil
            }
            return .env(name)
        case (nil, let file?):
            return filePath(file, fields.path("file")).map(SecretReference.file)
        case (.some, .some):
            report(node, path, "give either 'env' or 'file', not both")
            return nil
        case (nil, nil):
            if problems.count == problemsBefore {
                report(node, path, "expected a secret reference {env: NAME} or {file: PATH}")
            }
            return nil
        }
    }

    static func isEnvironmentName(_ name: String) -> Bool {
        matches(name, first: { $0.isASCII && ($0.isLetter || $0 == "_") },
                rest: { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
    }

    // MARK: - The document

    func validate() -> Policy? {
        for problem in document.syntaxProblems {
            report(line: problem.line, column: problem.column, "", problem.message)
        }
        guard document.syntaxProblems.isEmpty else { return nil }
        guard let root = document.root else {
            report(line: 1, column: 1, "", "the policy is empty: expected 'version', 'repository' and 'targets'")
            return nil
        }
        guard let top = mapping(root, "", known: ["version", "repository", "targets", "metrics", "notifications", "agent"],
                                expected: "a mapping with 'version', 'repository' and 'targets'") else { return nil }
        var versionOK = false
        if let node = required(top, "version") {
            if let version = int(node, "version", Int.min...Int.max) {
                if version == PolicyLoader.schemaVersion {
                    versionOK = true
                } else {
                    report(node, "version", "unsupported version \(version): this drctl reads version \(PolicyLoader.schemaVersion)")
                }
            }
        }
        let repository = required(top, "repository").flatMap { repositoryPolicy($0, "repository") }
        let targets = required(top, "targets").flatMap { targetPolicies($0, "targets") }
        let agent = top["agent"].map { agentSettings($0, "agent") } ?? AgentSettings()
        let metrics = top["metrics"].flatMap { metricsPolicy($0, "metrics") }
        let notifications = top["notifications"].flatMap { notificationChannels($0, "notifications") } ?? []
        // Duplicates inside parts that were not walked (e.g. under an unknown key).
        for (number, duplicate) in document.duplicates where !reportedDuplicates.contains(number) {
            report(line: duplicate.line, column: duplicate.column, duplicate.key,
                   "duplicate key '\(duplicate.key)' (first defined at line \(duplicate.firstLine))")
        }
        guard versionOK, let repository, let targets else { return nil }
        var policy = Policy(sourcePath: file, repository: repository, targets: targets)
        if let agent { policy.agent = agent }
        policy.metrics = metrics
        policy.notifications = notifications
        return policy
    }

    // MARK: - Repository

    func repositoryPolicy(_ node: Node, _ path: String) -> RepositoryPolicy? {
        guard let fields = mapping(node, path, known: ["regions", "min_regions", "compression", "encryption", "lock_lifetime", "id", "cache_dir"]) else { return nil }
        var regions: [RegionPolicy]?
        var regionCount: Int?
        if let node = required(fields, "regions"),
           let items = list(node, fields.path("regions"), expected: "a list of regions") {
            regionCount = items.count
            var result: [RegionPolicy] = []
            var seen: [String: Int] = [:]
            var complete = true
            for (index, item) in items.enumerated() {
                let itemPath = Self.item(fields.path("regions"), index)
                guard let region = regionPolicy(item, itemPath) else { complete = false; continue }
                if let firstLine = seen[region.name.value] {
                    report(region.name.node, Self.child(itemPath, "name"),
                           "duplicate region name '\(region.name.value)' (first defined at line \(firstLine))")
                    complete = false
                } else {
                    seen[region.name.value] = document.location(of: region.name.node).line
                }
                result.append(region.policy)
            }
            if complete { regions = result }
        }
        var minRegions: Int? = 1
        if let node = fields["min_regions"] {
            minRegions = int(node, fields.path("min_regions"), 1...Int.max)
            if let value = minRegions, let count = regionCount, value > count {
                report(node, fields.path("min_regions"),
                       "min_regions \(value) is more than the number of regions (\(count))")
                minRegions = nil
            }
        }
        var compression: CompressionPolicy? = CompressionPolicy()
        if let node = fields["compression"] {
            compression = compressionPolicy(node, fields.path("compression"))
        }
        let encryption = required(fields, "encryption").flatMap { encryptionPolicy($0, fields.path("encryption")) }
        var lockLifetime: Duration? = RepositoryPolicy.defaultLockLifetime
        if let node = fields["lock_lifetime"] {
            lockLifetime = duration(node, fields.path("lock_lifetime"), within: RepositoryPolicy.lockLifetimeRange)
        }
        var id: String?? = .some(nil)
        if let node = fields["id"] {
            id = repositoryID(node, fields.path("id"))
        }
        var cacheDirectory: String?? = .some(nil)
        if let node = fields["cache_dir"] {
            cacheDirectory = self.cacheDirectory(node, fields.path("cache_dir"))
        }
        guard let regions, let minRegions, let compression, let encryption, let lockLifetime, let id, let cacheDirectory else { return nil }
        var policy = RepositoryPolicy(regions: regions, minRegions: minRegions, compression: compression, encryption: encryption)
        policy.lockLifetime = lockLifetime
        policy.id = id
        policy.cacheDirectory = cacheDirectory
        return policy
    }

    /// `repository.cache_dir`: an absolute path (the cache is this host's, wherever the policy
    /// file lies), or `off`.
    func cacheDirectory(_ node: Node, _ path: String) -> String?? {
        guard let text = string(node, path) else { return nil }
        guard text == "off" || text.hasPrefix("/") else {
            report(node, path, "the read cache's directory must be an absolute path (or off), not '\(text)'")
            return nil
        }
        return .some(text == "off" ? text : PathText.normalize(text))
    }

    /// `repository.id`: 32 lowercase hex characters, as `drctl check` shows a repository's id.
    func repositoryID(_ node: Node, _ path: String) -> String?? {
        guard let text = string(node, path) else { return nil }
        guard text.utf8.count == 32, text.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            report(node, path, "a repository id is 32 lowercase hex characters (its repository.json's repository_id), not '\(text)'")
            return nil
        }
        return .some(text)
    }

    static let s3Keys = ["endpoint", "region", "path_style", "access_key_id", "secret_access_key", "session_token",
                         "ca_file", "insecure_skip_tls_verify", "checksums"]

    func regionPolicy(_ node: Node, _ path: String) -> (policy: RegionPolicy, name: (value: String, node: Node))? {
        guard let fields = mapping(node, path, known: ["name", "url", "timeout", "read_deadline"] + Self.s3Keys) else { return nil }
        var name: String?
        let nameNode = required(fields, "name")
        if let nameNode, let text = string(nameNode, fields.path("name")) {
            if Self.matches(text, first: Self.isLowerAlnum, rest: { Self.isLowerAlnum($0) || $0 == "-" || $0 == "_" }) {
                name = text
            } else {
                report(nameNode, fields.path("name"),
                       "invalid region name \"\(text)\": use lowercase letters, digits, '-' and '_', starting with a letter or digit")
            }
        }
        let location = required(fields, "url").flatMap { regionLocation($0, fields.path("url")) }
        var timeout: Duration?
        var ok = true
        if let node = fields["timeout"] {
            timeout = duration(node, fields.path("timeout"))
            ok = timeout != nil
        }
        var readDeadline: Duration?
        if let node = fields["read_deadline"] {
            readDeadline = duration(node, fields.path("read_deadline"), within: RegionPolicy.readDeadlineRange)
            ok = ok && readDeadline != nil
        }
        var s3: S3Settings?
        if case .s3? = location {
            s3 = s3Settings(fields)
            ok = ok && s3 != nil
        } else if location != nil {
            for key in Self.s3Keys {
                if let keyNode = fields.keyNode(key) {
                    report(keyNode, fields.path(key), "'\(key)' is only valid for s3:// regions")
                    ok = false
                }
            }
        }
        guard ok, let name, let nameNode, let location else { return nil }
        var region = RegionPolicy(name: name, location: location, timeout: timeout, s3: s3)
        region.readDeadline = readDeadline
        return (region, (name, nameNode))
    }

    func regionLocation(_ node: Node, _ path: String) -> RegionLocation? {
        guard let text = string(node, path) else { return nil }
        let usage = "expected file:///absolute/path, s3://bucket/prefix or a directory path"
        let schemeEnd = text.firstIndex(of: ":")
        let scheme = schemeEnd.map { String(text[..<$0]) } ?? ""
        let looksLikeScheme = schemeEnd != nil && Self.matches(scheme, first: { $0.isASCII && $0.isLetter },
                                                               rest: { $0.isASCII && ($0.isLetter || $0.isNumber || "+.-".contains($0)) })
        guard looksLikeScheme, let schemeEnd else {
            return filePath(node, path).map(RegionLocation.directory)
        }
        let afterColon = text[text.index(after: schemeEnd)...]
        guard afterColon.hasPrefix("//") else {
            report(node, path, "invalid URL \"\(text)\": missing '//' after '\(scheme):'; \(usage)")
            return nil
        }
        let rest = String(afterColon.dropFirst(2))
        switch scheme.lowercased() {
        case "file":
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            let host = rest[..<slash]
            guard host.isEmpty || host == "localhost", slash != rest.endIndex else {
                report(node, path, "invalid file URL \"\(text)\": it needs an absolute path, e.g. file:///var/lib/drctl/repo "
                       + "(for a path relative to the policy, write the path without file://)")
                return nil
            }
            guard let decoded = String(rest[slash...]).removingPercentEncoding else {
                report(node, path, "invalid file URL \"\(text)\": bad percent-encoding")
                return nil
            }
            return .directory(PathText.normalize(decoded))
        case "s3":
            let slash = rest.firstIndex(of: "/") ?? rest.endIndex
            let bucket = String(rest[..<slash])
            let prefix = rest[slash...].split(separator: "/").joined(separator: "/")
            let bucketOK = (3...63).contains(bucket.count)
                && Self.matches(bucket, first: Self.isLowerAlnum, rest: { Self.isLowerAlnum($0) || $0 == "-" || $0 == "." })
                && bucket.last.map(Self.isLowerAlnum) == true
            guard bucketOK else {
                report(node, path, "invalid S3 bucket name \"\(bucket)\" in \"\(text)\": 3-63 lowercase letters, digits, '.' and '-'")
                return nil
            }
            return .s3(bucket: bucket, prefix: prefix)
        default:
            report(node, path, "unsupported URL scheme '\(scheme)' in \"\(text)\": \(usage)")
            return nil
        }
    }

    func s3Settings(_ fields: Fields) -> S3Settings? {
        var settings = S3Settings()
        var ok = true
        func take<T>(_ key: String, _ read: (Node, String) -> T?) -> T? {
            guard let node = fields[key] else { return nil }
            let value = read(node, fields.path(key))
            if value == nil { ok = false }
            return value
        }
        settings.endpoint = take("endpoint") { node, path in
            guard let text = string(node, path) else { return nil }
            let scheme = text.range(of: "://").map { text[..<$0.lowerBound].lowercased() }
            guard scheme == "http" || scheme == "https" else {
                report(node, path, "invalid endpoint \"\(text)\": expected an http:// or https:// URL")
                return nil
            }
            if let problem = HTTPURLText.problem(text) {
                report(node, path, "invalid endpoint \"\(text)\": \(problem)")
                return nil
            }
            return text
        }
        settings.region = take("region") { string($0, $1) }
        settings.pathStyle = take("path_style") { bool($0, $1) } ?? false
        settings.accessKeyID = take("access_key_id") { secret($0, $1) }
        settings.secretAccessKey = take("secret_access_key") { secret($0, $1) }
        settings.sessionToken = take("session_token") { secret($0, $1) }
        settings.caFile = take("ca_file") { filePath($0, $1) }
        settings.insecureSkipTLSVerify = take("insecure_skip_tls_verify") { bool($0, $1) } ?? false
        settings.checksums = take("checksums") { bool($0, $1) } ?? true
        let hasKeyID = fields["access_key_id"] != nil, hasSecret = fields["secret_access_key"] != nil
        if hasKeyID != hasSecret {
            let given = hasKeyID ? "access_key_id" : "secret_access_key"
            let missing = hasKeyID ? "secret_access_key" : "access_key_id"
            report(fields.keyNode(given), fields.path(given), "'\(given)' needs '\(missing)' too")
            ok = false
        }
        if let keyNode = fields.keyNode("session_token"), !(hasKeyID && hasSecret) {
            report(keyNode, fields.path("session_token"), "'session_token' needs 'access_key_id' and 'secret_access_key'")
            ok = false
        }
        return ok ? settings : nil
    }

    func compressionPolicy(_ node: Node, _ path: String) -> CompressionPolicy? {
        guard let fields = mapping(node, path, known: ["level", "threads"]) else { return nil }
        var policy = CompressionPolicy()
        var ok = true
        if let node = fields["level"] {
            if let level = int(node, fields.path("level"), 1...19) { policy.level = Int32(level) } else { ok = false }
        }
        if let node = fields["threads"] {
            if let threads = int(node, fields.path("threads"), 0...256) { policy.threads = threads } else { ok = false }
        }
        return ok ? policy : nil
    }

    func encryptionPolicy(_ node: Node, _ path: String) -> EncryptionPolicy? {
        guard let fields = mapping(node, path, known: ["key_file", "public_key_file", "signing_key_file", "writers", "scheme"])
        else { return nil }
        var policy = EncryptionPolicy()
        var ok = true
        for (key, noun) in [("key_file", "key file"), ("public_key_file", "public key file"), ("signing_key_file", "signing key file")] {
            guard let node = fields[key] else { continue }
            guard let resolved = keyFile(node, fields.path(key), noun: noun) else { ok = false; continue }
            switch key {
            case "key_file": policy.keyFile = resolved
            case "public_key_file": policy.publicKeyFile = resolved
            default: policy.signingKeyFile = resolved
            }
        }
        if let node = fields["writers"] {
            if let writers = writerKeyFiles(node, fields.path("writers")) { policy.writers = writers } else { ok = false }
        }
        if fields["key_file"] == nil && fields["public_key_file"] == nil {
            report(node, path, "needs 'key_file', 'public_key_file' or both")
            ok = false
        }
        if let node = fields["scheme"] {
            if let scheme = choice(node, fields.path("scheme"), EncryptionScheme.self, what: "encryption scheme"),
               schemeFits(scheme, fields, node) {
                policy.scheme = scheme
            } else {
                ok = false
            }
        }
        return ok ? policy : nil
    }

    /// A key file's absolute path, which must exist and be readable (its contents are the key
    /// ring's to check); `noun` names it in the message ("key file PATH does not exist").
    func keyFile(_ node: Node, _ path: String, noun: String) -> String? {
        guard let resolved = filePath(node, path) else { return nil }
        if let problem = FileIO.readableFileProblem(resolved) {
            let relative = (node.string.map { !$0.hasPrefix("/") } ?? false) ? " (relative to the policy's directory)" : ""
            report(node, path, "\(noun) \(resolved)\(relative) \(problem)")
            return nil
        }
        return resolved
    }

    /// `writers`: a list of writer key files, each once.
    func writerKeyFiles(_ node: Node, _ path: String) -> [String]? {
        guard let items = list(node, path, expected: "a list of writer key files",
                               emptyHint: "; list every writing host's writer key file, or omit 'writers'") else { return nil }
        var writers: [String] = []
        var ok = true
        for (index, item) in items.enumerated() {
            let itemPath = Self.item(path, index)
            guard let resolved = keyFile(item, itemPath, noun: "writer key file") else { ok = false; continue }
            if writers.contains(resolved) {
                report(item, itemPath, "lists \(resolved) twice")
                ok = false
                continue
            }
            writers.append(resolved)
        }
        return ok ? writers : nil
    }

    /// Whether the keys given make backups wrap data keys with the pinned scheme: the secret key
    /// alone wraps symmetrically, a public key makes every backup wrap to it.
    func schemeFits(_ scheme: EncryptionScheme, _ fields: Fields, _ node: Node) -> Bool {
        let path = fields.path("scheme")
        switch scheme {
        case .symmetric:
            if fields["key_file"] == nil {
                report(node, path, "scheme 'symmetric' wraps data keys with the secret key: it needs 'key_file'")
                return false
            }
            if fields["public_key_file"] != nil {
                report(node, path, "scheme 'symmetric' wraps data keys with the secret key, but 'public_key_file' makes backups "
                           + "wrap them to the public key (x25519): remove 'public_key_file' or pin 'x25519'")
                return false
            }
        case .x25519:
            if fields["public_key_file"] == nil {
                report(node, path, "scheme 'x25519' wraps data keys to the public key: it needs 'public_key_file'")
                return false
            }
        }
        return true
    }

    // MARK: - Targets

    static let targetKeys = ["name", "kind", "command", "environment", "schedule", "timezone", "retention",
                             "objectives", "drill", "mode", "connection"]

    func targetPolicies(_ node: Node, _ path: String) -> [TargetPolicy]? {
        guard let items = list(node, path, expected: "a list of targets") else { return nil }
        var result: [TargetPolicy] = []
        var seen: [String: Int] = [:]
        var complete = true
        for (index, item) in items.enumerated() {
            let itemPath = Self.item(path, index)
            // Names are checked for duplicates even when the rest of the target has problems.
            if let fields = item.mapping, let nameNode = fields["name"], let name = nameNode.string,
               case .scalar = nameNode, nameNode.tagName != .null {
                if let firstLine = seen[name] {
                    report(nameNode, Self.child(itemPath, "name"), "duplicate target name '\(name)' (first defined at line \(firstLine))")
                    complete = false
                } else {
                    seen[name] = document.location(of: nameNode).line
                }
            }
            guard let target = targetPolicy(item, itemPath) else { complete = false; continue }
            result.append(target)
        }
        return complete ? result : nil
    }

    func targetPolicy(_ node: Node, _ path: String) -> TargetPolicy? {
        guard let fields = mapping(node, path, known: Self.targetKeys) else { return nil }
        let problemsBefore = problems.count
        var name: String?
        if let node = required(fields, "name"), let text = string(node, fields.path("name")) {
            if Self.matches(text, first: Self.isLowerAlnum,
                            rest: { Self.isLowerAlnum($0) || $0 == "-" || $0 == "_" || $0 == "." }) {
                name = text
            } else {
                report(node, fields.path("name"),
                       "invalid target name \"\(text)\": use lowercase letters, digits, '-', '_' and '.', starting with a letter or digit")
            }
        }
        let kind = required(fields, "kind", " (command, postgres or redis)").flatMap {
            choice($0, fields.path("kind"), TargetKind.self, what: "kind")
        }
        var target = TargetPolicy(name: name ?? "", kind: kind ?? .command)

        // Keys that belong to some kinds only.
        let allowed: [String: [TargetKind]] = [
            "command": [.command], "environment": [.command], "mode": [.postgres], "connection": [.postgres, .redis],
        ]
        if let kind {
            for (key, kinds) in allowed.sorted(by: { $0.key < $1.key }) {
                if let keyNode = fields.keyNode(key), !kinds.contains(kind) {
                    let names = Self.alternatives(kinds.map(\.rawValue))
                    report(keyNode, fields.path(key), "'\(key)' is only valid for kind \(names) (this target is kind \(kind.rawValue))")
                }
            }
        }
        if let kind {
            switch kind {
            case .command:
                if let node = required(fields, "command", " (for kind command: the program's argv)") {
                    target.command = command(node, fields.path("command")) ?? []
                }
                if let node = fields["environment"] {
                    target.environment = environment(node, fields.path("environment")) ?? [:]
                }
            case .postgres:
                target.mode = .logical
                if let node = fields["mode"] {
                    target.mode = choice(node, fields.path("mode"), PostgresMode.self, what: "mode")
                }
                if let node = required(fields, "connection", " (for kind postgres)") {
                    target.postgres = postgresConnection(node, fields.path("connection"), mode: target.mode)
                }
            case .redis:
                if let node = required(fields, "connection", " (for kind redis)") {
                    target.redis = redisConnection(node, fields.path("connection"))
                }
            }
        }
        if let node = fields["schedule"] { target.schedule = cron(node, fields.path("schedule")) }
        if let node = fields["timezone"] { target.timezone = timeZone(node, fields.path("timezone")) }
        if let node = fields["retention"] { target.retention = retentionPolicy(node, fields.path("retention")) }
        if let node = fields["objectives"] { target.objectives = objectives(node, fields.path("objectives")) }
        if let node = fields["drill"] { target.drill = drillPolicy(node, fields.path("drill"), kind: kind) }
        return problems.count == problemsBefore && name != nil && kind != nil ? target : nil
    }

    func command(_ node: Node, _ path: String) -> [String]? {
        guard node.sequence != nil else {
            typeError(node, path, expected: "a list of strings (the program's argv; no shell), e.g. [\"tar\", \"-cf\", \"-\", \"/srv/app\"]")
            return nil
        }
        guard let items = list(node, path, expected: "a list of strings") else { return nil }
        var argv: [String] = []
        for (index, item) in items.enumerated() {
            guard let text = string(item, Self.item(path, index), nonEmpty: index == 0) else { return nil }
            argv.append(text)
        }
        return argv
    }

    func environment(_ node: Node, _ path: String) -> [String: SecretReference]? {
        guard node.mapping != nil else {
            typeError(node, path, expected: "a mapping of NAME: {env: VAR} or {file: PATH}")
            return nil
        }
        var result: [String: SecretReference] = [:]
        for (key, keyNode, value) in entries(of: node, path) {
            let itemPath = Self.child(path, key)
            guard Self.isEnvironmentName(key) else {
                report(keyNode, itemPath, "invalid environment variable name \"\(key)\"")
                continue
            }
            if let secret = secret(value, itemPath) { result[key] = secret }
        }
        return result
    }

    /// A PostgreSQL connection; `mode` is the target's (nil for a drill's `into`, which takes no
    /// physical-only keys).
    func postgresConnection(_ node: Node, _ path: String, mode: PostgresMode? = nil) -> PostgresConnection? {
        guard let fields = mapping(node, path, known: ["host", "port", "user", "password", "databases", "sslmode"]
                                   + Self.physicalConnectionKeys) else { return nil }
        let host = required(fields, "host").flatMap { string($0, fields.path("host")) }
        var connection = PostgresConnection(host: host ?? "")
        if let node = fields["port"] { connection.port = int(node, fields.path("port"), 1...65_535) ?? 0 }
        if let node = fields["user"] { connection.user = string(node, fields.path("user")) }
        if let node = fields["password"] { connection.password = secret(node, fields.path("password")) }
        if let node = fields["databases"],
           let items = list(node, fields.path("databases"), expected: "a list of database names",
                                emptyHint: "; leave 'databases' out to back up every database") {
            connection.databases = items.enumerated().compactMap { string($1, Self.item(fields.path("databases"), $0)) }
        }
        if let node = fields["sslmode"] {
            connection.sslmode = choice(node, fields.path("sslmode"), PostgresSSLMode.self, what: "sslmode") ?? .prefer
        }
        for key in Self.physicalConnectionKeys where mode != .physical {
            if let keyNode = fields.keyNode(key) {
                report(keyNode, fields.path(key), "'\(key)' is only valid in the connection of a target with mode: physical")
            }
        }
        if let node = fields["checkpoint"] {
            connection.checkpoint = choice(node, fields.path("checkpoint"), PostgresCheckpoint.self, what: "checkpoint") ?? .fast
        }
        if let node = fields["wal_wait_timeout"] {
            connection.walWaitTimeout = duration(node, fields.path("wal_wait_timeout"), within: .seconds(1)...(.seconds(86_400)))
                ?? PostgresConnection.defaultWalWaitTimeout
        }
        return connection
    }

    /// The connection keys of physical targets only (base backups).
    static let physicalConnectionKeys = ["checkpoint", "wal_wait_timeout"]

    func redisConnection(_ node: Node, _ path: String) -> RedisConnection? {
        guard let fields = mapping(node, path, known: ["host", "port", "username", "password"]) else { return nil }
        let host = required(fields, "host").flatMap { string($0, fields.path("host")) }
        var connection = RedisConnection(host: host ?? "")
        if let node = fields["port"] { connection.port = int(node, fields.path("port"), 1...65_535) ?? 0 }
        if let node = fields["username"] { connection.username = string(node, fields.path("username")) }
        if let node = fields["password"] { connection.password = secret(node, fields.path("password")) }
        return connection
    }

    static let retentionKeys = ["keep_last", "keep_hourly", "keep_daily", "keep_weekly", "keep_monthly", "keep_yearly"]

    func retentionPolicy(_ node: Node, _ path: String) -> RetentionPolicy? {
        guard let fields = mapping(node, path, known: Self.retentionKeys + Self.retentionDurationKeys) else { return nil }
        var values: [String: Int] = [:]
        var ok = true
        for key in Self.retentionKeys {
            guard let node = fields[key] else { continue }
            if let value = int(node, fields.path(key), 0...Int.max) { values[key] = value } else { ok = false }
        }
        let durations = retentionDurations(fields)
        guard ok, let durations else { return nil }
        guard values.values.contains(where: { $0 > 0 }) || durations.minAge != nil else {
            report(node, path, "keeps nothing: set at least one of \(Self.retentionKeys.joined(separator: ", ")) above 0, or min_age")
            return nil
        }
        return RetentionPolicy(keepLast: values["keep_last"] ?? 0, keepHourly: values["keep_hourly"] ?? 0,
                               keepDaily: values["keep_daily"] ?? 0, keepWeekly: values["keep_weekly"] ?? 0,
                               keepMonthly: values["keep_monthly"] ?? 0, keepYearly: values["keep_yearly"] ?? 0,
                               minAge: durations.minAge, leftoverGrace: durations.leftoverGrace)
    }

    func objectives(_ node: Node, _ path: String) -> Objectives? {
        guard let fields = mapping(node, path, known: ["rpo", "rto"]) else { return nil }
        var result = Objectives()
        if let node = fields["rpo"] { result.rpo = duration(node, fields.path("rpo")) }
        if let node = fields["rto"] { result.rto = duration(node, fields.path("rto")) }
        if fields["rpo"] == nil && fields["rto"] == nil {
            report(node, path, "needs 'rpo', 'rto' or both")
            return nil
        }
        return result
    }

    func drillPolicy(_ node: Node, _ path: String, kind: TargetKind?) -> DrillPolicy? {
        guard let fields = mapping(node, path, known: ["enabled", "schedule", "checks", "pick", "window", "into"]) else { return nil }
        var drill = DrillPolicy()
        if let node = fields["enabled"] { drill.enabled = bool(node, fields.path("enabled")) ?? false }
        if let node = fields["schedule"] { drill.schedule = cron(node, fields.path("schedule")) }
        drillPick(fields, into: &drill)
        drillInto(fields, kind: kind, into: &drill)
        if let node = fields["checks"] {
            if let kind, kind != .postgres {
                report(fields.keyNode("checks"), fields.path("checks"),
                       "drill checks are only supported for kind postgres (this target is kind \(kind.rawValue))")
            } else if let items = list(node, fields.path("checks"), expected: "a list of {sql: QUERY, expect: RESULT}") {
                for (index, item) in items.enumerated() {
                    let itemPath = Self.item(fields.path("checks"), index)
                    guard let check = mapping(item, itemPath, known: ["sql", "expect", "database"],
                                              expected: "a mapping {sql: QUERY, expect: RESULT}")
                    else { continue }
                    let sql = required(check, "sql").flatMap { string($0, check.path("sql")) }
                    let expect = required(check, "expect").flatMap { string($0, check.path("expect"), nonEmpty: false) }
                    let database = check["database"].flatMap { string($0, check.path("database")) }
                    if let sql, let expect { drill.checks.append(DrillCheck(sql: sql, expect: expect, database: database)) }
                }
            }
        }
        return drill
    }
}
