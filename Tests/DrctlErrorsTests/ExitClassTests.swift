import Foundation
import Testing
@testable import DrctlCrypto
import DrctlErrors
@testable import DrctlJobs
@testable import DrctlPipeline
@testable import DrctlPolicy
@testable import DrctlSources
@testable import DrctlStorage

/// Every case of every error type of the library modules has the exit class README's "Exit
/// codes" table gives it: the table is read from README.md, so the documentation and the code
/// cannot drift apart. (The drctl command's own two error types, keygen's, are checked end to
/// end by KeyTests.)
@Suite struct ExitClassTests {
    /// README's table: each code with its meaning.
    static let table: [(codes: [Int32], meaning: String)] = {
        let text = (try? String(contentsOf: SwiftDeclarations.root.appendingPathComponent("README.md"), encoding: .utf8)) ?? ""
        guard let section = text.range(of: "## Exit codes") else { return [] }
        let lines = text[section.upperBound...].split(separator: "\n").drop { !$0.hasPrefix("|") }.prefix { $0.hasPrefix("|") }
        return lines.dropFirst(2).map { line in
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            return (cells[0].split(separator: ",").compactMap { Int32($0.trimmingCharacters(in: .whitespaces)) }, cells[1])
        }
    }()

    /// README's rows, by words of their meaning.
    enum Row: String {
        case failed = "the operation failed"
        case invalid = "invalid usage or invalid policy"
        case integrity = "integrity failure"
        case key = "key problem"
        case notFound = "not found"
        case destinationExists = "the restore destination exists"
        case objectivesMissed = "over its objective"
        case locked = "the target is locked"
        case interrupted = "interrupted by SIGINT or SIGTERM"
        case walUnavailable = "`drctl wal-fetch` only"

        var codes: [Int32] {
            let rows = ExitClassTests.table.filter { $0.meaning.lowercased().contains(rawValue.lowercased()) }
            return rows.count == 1 ? rows[0].codes : []
        }
    }

    struct Sample: CustomStringConvertible {
        let error: any Error
        let row: Row
        /// The case it stands for, when the value cannot say (an enum case without payload).
        let named: String?

        init(_ error: any Error, _ row: Row, case named: String? = nil) {
            self.error = error
            self.row = row
            self.named = named
        }

        /// The type's name from the top level, as the sources spell it (`WriterTrust.NoWriters`).
        var type: String { String(reflecting: Swift.type(of: error)).split(separator: ".").dropFirst().joined(separator: ".") }

        /// The case: an enum's (from its payload's label), a `CryptoError`'s code, a `PostgresError`'s kind.
        var caseName: String? {
            if let named { return named }
            if let error = error as? CryptoError { return error.code.description }
            if let error = error as? PostgresError { return error.kind.rawValue }
            let mirror = Mirror(reflecting: error)
            return mirror.displayStyle == .enum ? mirror.children.first?.label : nil
        }

        var description: String { "\(type)\(caseName.map { ".\($0)" } ?? "")" }
    }

    static let lock = LockRecord(target: "db", generation: 1, state: .held,
                                 owner: LockOwner(host: "h", pid: 1, runID: "r", operation: "backup"),
                                 acquiredAt: Date(), writtenAt: Date(), expiresAt: Date())

    static let cryptoCodes: [(CryptoError.Code, Row)] = [
        (.keyFileMissing, .key), (.keyFileUnreadable, .key), (.keyFileTooOpen, .key), (.keyFileExists, .failed),
        (.keyFileWriteFailed, .failed), (.secretKeyGivenForPublic, .key), (.publicKeyGivenForSecret, .key),
        (.wrongKeyKind, .key), (.malformedKeyFile, .key), (.invalidKeyLength, .key), (.invalidPublicKey, .key),
        (.wrongKey, .key), (.manifestKeyTampered, .integrity), (.malformedWrappedKey, .integrity),
        (.notSealedStream, .integrity), (.unsupportedVersion, .integrity), (.unsupportedAlgorithm, .integrity),
        (.unsupportedChunkSize, .integrity), (.wrongBackup, .integrity), (.wrongObject, .integrity),
        (.headerTampered, .integrity), (.chunkTampered, .integrity), (.chunksReordered, .integrity),
        (.truncated, .integrity), (.truncatedOrTampered, .integrity), (.dataAppended, .integrity),
    ]

    static let postgresKinds: [(PostgresError.Kind, Row)] = [
        (.unreachable, .failed), (.authenticationFailed, .failed), (.databaseDoesNotExist, .failed),
        (.permissionDenied, .failed), (.queryFailed, .failed), (.connectionFailed, .failed),
        (.pgDumpTooOld, .failed), (.pgDumpUnusable, .failed), (.unsupportedServer, .failed),
    ]

    static let samples: [Sample] = cryptoCodes.map { Sample(CryptoError($0.0, "m"), $0.1) }
        + postgresKinds.map { Sample(PostgresError($0.0, "m"), $0.1) } + [
        // DrctlCrypto
        Sample(AuthenticatedBytes.Failure.repeated("mac"), .integrity),
        Sample(AuthenticatedBytes.Failure.malformed("mac"), .integrity),
        // DrctlPolicy
        Sample(PolicyError(problems: []), .invalid),
        Sample(PolicyValueError("m"), .invalid),
        Sample(SecretError("environment variable X is not set"), .failed),
        Sample(FileIO.Failure(reason: "m"), .failed),
        // DrctlPipeline
        Sample(IntegrityError.sizeMismatch(object: "o", expected: 2, actual: 1), .integrity),
        Sample(IntegrityError.digestMismatch(object: "o", expected: "a", actual: "b"), .integrity),
        Sample(ZstdError(operation: "decompress", code: 0, detail: "truncated"), .integrity),
        Sample(Errno(EIO), .failed),
        Sample(PipelineStopped(), .failed),
        // DrctlSources
        Sample(SourceError.cannotStart(program: "p", reason: "r"), .failed),
        Sample(SourceError.readFailed(program: "p", reason: "r"), .failed),
        Sample(SourceError.programFailed(program: "p", exit: .killed(signal: 9), stderr: ""), .failed),
        Sample(PostgresPasswordError(), .failed),
        Sample(RedisError.cannotResolve(address: "a", reason: "r"), .failed),
        Sample(RedisError.connectionRefused(address: "a"), .failed),
        Sample(RedisError.unreachable(address: "a", reason: "r"), .failed),
        Sample(RedisError.passwordRequired(address: "a"), .failed),
        Sample(RedisError.authenticationFailed(address: "a", user: nil, serverMessage: "WRONGPASS"), .failed),
        Sample(RedisError.commandRefused(address: "a", command: "SYNC", serverMessage: "NOPERM"), .failed),
        Sample(RedisError.incompleteTransfer(address: "a", received: 1, expected: 2, reason: nil), .failed),
        Sample(RedisError.connectionClosed(address: "a", waitingFor: "w"), .failed),
        Sample(RedisError.protocolViolation(address: "a", detail: "d"), .failed),
        Sample(RedisError.timedOut(address: "a", seconds: 1, waitingFor: "w"), .failed),
        Sample(RedisError.socketFailed(address: "a", operation: "o", reason: "r"), .failed),
        Sample(RedisError.cancelled(address: "a"), .failed),
        Sample(MemoryFileError("r"), .failed),
        Sample(LoopbackPort.Failure(description: "d"), .failed),
        Sample(DatabaseDefinition.Failure.unexpected("s"), .failed),
        Sample(CustomArchiveScanner.Failure.notAnArchive, .failed, case: "notAnArchive"),
        Sample(CustomArchiveScanner.Failure.unsupportedVersion("1.0"), .failed),
        Sample(CustomArchiveScanner.Failure.compressed, .failed, case: "compressed"),
        Sample(CustomArchiveScanner.Failure.malformed("m"), .failed),
        Sample(CustomArchiveScanner.NeedMore(), .failed),
        Sample(ArchiveHead.Complete(), .failed),
        Sample(ArchiveHead.Failure.unreadable(.compressed), .failed),
        Sample(ArchiveHead.Failure.truncated, .failed, case: "truncated"),
        Sample(ArchiveHead.Failure.noDatabaseEntry, .failed, case: "noDatabaseEntry"),
        Sample(RDBHeaderParser.NeedMore(), .failed),
        Sample(RDBHeaderParser.Unsupported(), .failed),
        // DrctlStorage
        Sample(StorageError.io(operation: "read", key: "k", location: "l", reason: "Permission denied"), .failed),
        Sample(StorageError.noSpace(key: "k", location: "l"), .failed),
        Sample(StorageError.alreadyExists(key: "k", location: "l"), .failed),
        Sample(StorageError.notFound(key: "k", location: "l"), .integrity),
        Sample(StorageError.invalidKey("k"), .invalid),
        Sample(StorageError.tooLarge(key: "k", size: 2, limit: 1, location: "l"), .integrity),
        Sample(HTTPError.transport(url: "u", code: 7, message: "m"), .failed),
        Sample(HTTPError.responseTooLarge(url: "u", limit: 1), .failed),
        Sample(HTTPError.cancelled(url: "u"), .failed),
        Sample(HTTPStatusError(status: 500), .failed),
        Sample(S3ConfigurationError("bad port"), .invalid),
        Sample(WebIdentityError("m"), .failed),
        Sample(CacheWriteError(), .failed),
        Sample(RegionQuorumError(alive: 0, total: 2, minRegions: 1, failures: []), .failed),
        Sample(RegionStalled(region: "r", seconds: 1), .failed),
        Sample(RegionWriterGone(region: "r"), .failed),
        Sample(UnreadableManifest(key: "k", region: "r", error: RepositoryError.refused(what: "w", region: "r", reason: "m")), .integrity),
        Sample(UnreadableManifest(key: "k", region: "r", error: StorageError.io(operation: "read", key: "k", location: "l", reason: "r")), .failed),
        Sample(RepositoryError.unreadable(what: "w", region: "r", reason: "m"), .integrity),
        Sample(RepositoryError.newerFormat(what: "w", version: 9, supported: 2, region: "r"), .failed),
        Sample(RepositoryError.refused(what: "w", region: "r", reason: "m"), .integrity),
        Sample(RepositoryError.unauthenticated(what: "w", region: "r", failure: .uncheckable("m")), .integrity),
        Sample(SealFailure.tampered("m"), .integrity),
        Sample(SealFailure.unknownWriter("m"), .integrity),
        Sample(SealFailure.malformed("m"), .integrity),
        Sample(SealFailure.uncheckable("m"), .key),
        Sample(IdentityError.regionsDisagree([]), .integrity),
        Sample(IdentityError.notPinned(region: "r", found: "f", pinned: "p"), .integrity),
        Sample(IdentityError.pinnedButVersionOne(pinned: "p"), .invalid),
        Sample(WalObjectError.malformed("m"), .integrity),
        Sample(WalObjectError.newerFormat("m"), .failed),
        Sample(WalObjectError.unauthenticated(.tampered("m")), .integrity),
        Sample(WalObjectError.damaged("m"), .integrity),
        Sample(WalHeaderError("m"), .invalid),
        Sample(WalError.notPhysical(target: "t"), .invalid),
        Sample(WalError.notWalFileName("n"), .invalid),
        Sample(WalError.unreadableFile(path: "p", reason: "r"), .failed),
        Sample(WalError.notASegment(path: "p", reason: "r"), .invalid),
        Sample(WalError.otherCluster(file: "f", segment: 1, dataDirectory: 2), .invalid),
        Sample(WalError.unknownSystem(target: "t", system: 1, archived: [2]), .invalid),
        Sample(WalError.noSystemIdentifier(file: "f", reason: "r"), .invalid),
        Sample(WalError.versionOneRepository, .invalid, case: "versionOneRepository"),
        Sample(WalError.untrustedSpool(path: "/s", reason: "r"), .invalid),
        Sample(WalError.bodyNotReadBack(expected: 5, read: 3), .failed),
        Sample(WalError.conflict(file: "f", target: "t", regions: [], archived: [], pushed: "s"), .failed),
        Sample(WalError.quorum(file: "f", held: 0, minRegions: 1, failures: []), .failed),
        Sample(WalFetchFailed(file: "f", failures: [], absentIn: []), .walUnavailable),
        Sample(WalOpener.Failure.read(StorageError.io(operation: "o", key: "k", location: "l", reason: "r")), .failed),
        Sample(WalOpener.Failure.integrity(WalObjectError.damaged("d")), .integrity),
        Sample(WalOpener.Failure.key(JobError.noKey), .key),
        Sample(WalOpener.Failure.destination(RestoreDestinationError(path: "p", operation: "o", code: ENOSPC)), .failed),
        Sample(WriterTrust.NoWriters(), .key),
        Sample(SignedDocuments.ReadOnly(), .key),
        Sample(RecordNotSigned(key: "records/db/failures/x.json", reason: SignedDocuments.ReadOnly()), .key),
        Sample(TargetLockedError(target: "db", holder: lock, region: "r"), .locked),
        Sample(LockUnavailable(target: "db", locked: 0, required: 1, failures: []), .failed),
        // DrctlJobs
        Sample(PhysicalBackupError.versionOneRepository(target: "t"), .invalid),
        Sample(PhysicalBackupError.walNotArchived(target: "t", segment: "s", holding: WalHolding(), required: 1, waited: .seconds(1)), .failed),
        Sample(PhysicalBackupError.walRangeUnreadable(start: "a", end: "b"), .failed),
        Sample(PhysicalBackupError.implausibleServerAnswer(target: "t", what: "w"), .failed),
        Sample(PhysicalBackupError.unreadableSystemIdentifier(target: "t", text: "007"), .failed),
        Sample(PhysicalRestoreError.badTime("t"), .invalid),
        Sample(PhysicalRestoreError.badLSN("l"), .invalid),
        Sample(PhysicalRestoreError.badTimeline("t"), .invalid),
        Sample(PhysicalRestoreError.badTablespaceMap("m"), .invalid),
        Sample(PhysicalRestoreError.notPhysical(target: "t"), .invalid),
        Sample(PhysicalRestoreError.pastArchivedWAL(requested: Date(), newest: Date()), .invalid),
        Sample(PhysicalRestoreError.beforeOldestBackup(target: "t", requested: "r", oldest: nil), .notFound),
        Sample(PhysicalRestoreError.dataDirectoryNotEmpty("d"), .destinationExists),
        Sample(PhysicalRestoreError.tablespaceDirectoryNotEmpty("d"), .destinationExists),
        Sample(PhysicalRestoreError.verifyFailed("o"), .integrity),
        Sample(PhysicalRestoreError.archiveRefused(archive: "base.tar", member: "../x", reason: "r"), .integrity),
        Sample(PhysicalRestoreError.missingProgram("p", major: "15"), .failed),
        Sample(PhysicalRestoreError.serverFailed("d"), .failed),
        Sample(PhysicalRestoreError.cannotPrepare(path: "p", reason: "r"), .failed),
        Sample(JobError.noKey, .key, case: "noKey"),
        Sample(JobError.secretKeyNeeded(publicKeyPath: nil), .key),
        Sample(JobError.keyMismatch(secret: "s", secretID: "1", public: "p", publicID: "2"), .key),
        Sample(JobError.signingKeyNeeded(publicKeyPath: nil), .key),
        Sample(JobError.unlistedWriter(signingKeyPath: "p", signerID: "1"), .key),
        Sample(JobError.wrapSchemeNotPinned(found: "f", pinned: "p"), .integrity),
        Sample(JobError.unknownTarget("t", known: []), .notFound),
        Sample(JobError.unsupportedKind(target: "t", kind: "k"), .failed),
        Sample(JobError.noBackups(target: "t"), .notFound),
        Sample(JobError.backupNotFound(target: "t", backup: "b"), .notFound),
        Sample(JobError.noBackupBefore(target: "t", time: Date(), oldest: nil), .notFound),
        Sample(JobError.invalidBackupID("b"), .invalid),
        Sample(JobError.destinationExists("d"), .destinationExists),
        Sample(JobError.needsDirectory(backup: "b", objects: 2), .invalid),
        Sample(JobError.invalidDestination(url: "u", reason: "r"), .invalid),
        Sample(JobError.noCredentials(region: "r", searched: "s"), .invalid),
        Sample(JobError.unknownRegion("r", known: []), .notFound),
        Sample(JobError.sizeMismatch(object: "o", expected: 2, actual: 1), .integrity),
        Sample(JobError.interrupted(signal: "SIGINT"), .interrupted),
        Sample(RegionFailure(region: "r", error: CryptoError(.chunkTampered, "m")), .integrity),
        Sample(RegionFailure(region: "r", error: CocoaError(.fileReadUnknown)), .failed),
        Sample(RegionsExhausted(operation: "o", failures: [IntegrityError.digestMismatch(object: "o", expected: "a", actual: "b"),
                                                           RegionFailure(region: "r", error: CryptoError(.truncated, "m"))]), .integrity),
        Sample(RegionsExhausted(operation: "o", failures: [CryptoError(.wrongKey, "m"), StorageError.noSpace(key: "k", location: "l")]), .failed),
        Sample(RestoreDestinationError(path: "p", operation: "o", code: ENOSPC), .failed),
        Sample(RestoreProgramError(program: "pg_restore", exit: .exited(code: 1), stderr: "", detail: nil), .failed),
        Sample(DatabasePropertyError(database: "d", destination: "x", problem: "p", advice: "a"), .failed),
        Sample(StagedLoadError(step: "s", reason: "r"), .failed),
        Sample(StagedLoad.Abandoned(), .failed),
        Sample(StagedBlockReader.Malformed(description: "d"), .failed),
        Sample(LockLostError(target: "t", region: "r", reason: "m"), .failed),
        Sample(SyncError.sameRegion("r"), .invalid),
        Sample(SyncError.notInSource(backup: "b", region: "r"), .notFound),
        Sample(DrillError.scratch("m"), .failed),
        Sample(DrillError.noServerBinaries(major: "15", searched: "s"), .failed),
        Sample(DrillError.instanceFailed(what: "w", log: "l"), .failed),
        Sample(DrillError.intoSource(target: "t", address: "a"), .failed),
        Sample(DrillError.unsupported("m"), .failed),
        Sample(MetricsError.textfile(path: "p", reason: "r"), .failed),
        Sample(MetricsError.push(url: "u", status: 500, body: ""), .failed),
        Sample(AgentError.badListenAddress("a", reason: "r"), .invalid),
        Sample(AgentError.listenFailed("a", errno: EADDRINUSE), .failed),
        Sample(AgentError.nothingScheduled, .invalid, case: "nothingScheduled"),
        Sample(AgentRunError(errors: []), .failed),
    ]

    @Test func theClassesAreREADMEsCodes() {
        let documented = Set(Self.table.flatMap(\.codes))
        #expect(documented.contains(0) && documented.count >= 10, "README's table: \(Self.table)")
        #expect(Set(ExitClass.allCases.map(\.rawValue)) == documented.subtracting([0]))
        #expect(ExitClass.interrupted(by: "SIGINT").rawValue == 128 + SIGINT)
        #expect(ExitClass.interrupted(by: "SIGTERM").rawValue == 128 + SIGTERM)
        #expect(ExitClass.of(CocoaError(.fileNoSuchFile)) == .failed, "an error from outside drctl")
    }

    @Test(arguments: samples) func everyErrorCaseHasItsDocumentedClass(_ sample: Sample) {
        let codes = sample.row.codes
        #expect(!codes.isEmpty, "README's exit code table has no single row reading '\(sample.row.rawValue)'")
        let code = ExitClass.of(sample.error).rawValue
        #expect(codes.contains(code), "\(sample) exits \(code); README gives '\(sample.row.rawValue)' code \(codes)")
        #expect(sample.error is any ClassifiedError)
    }

    /// Every error type the library modules declare, and every case of each, has a sample
    /// above: a new case or type makes this fail until its class is checked here.
    @Test func everyErrorTypeAndCaseHasASample() throws {
        let scanned = try ErrorDeclarationTests.scanned.get()
        let libraries = ErrorDeclarationTests.errorTypes(scanned).filter { $0.key != "drctl" }.values.reduce(Set(), { $0.union($1) })
        let sampled = Dictionary(grouping: Self.samples, by: \.type).mapValues { Set($0.compactMap(\.caseName)) }
        #expect(libraries.subtracting(sampled.keys).isEmpty, "no sample of \(libraries.subtracting(sampled.keys).sorted())")

        var cases: [String: [String]] = [:]
        for declaration in scanned.declarations where declaration.keyword == "enum" && libraries.contains(declaration.name) {
            cases[declaration.name] = declaration.cases
        }
        let cryptoSource = try String(contentsOf: SwiftDeclarations.root.appendingPathComponent("Sources/DrctlCrypto/CryptoError.swift"), encoding: .utf8)
        cases["CryptoError"] = cryptoSource.split(separator: "\n").compactMap { line in
            line.range(of: "public static let ").flatMap { start in
                line.range(of: " = Code(").map { String(line[start.upperBound..<$0.lowerBound]) }
            }
        }
        cases["PostgresError"] = scanned.declarations.first { $0.name == "PostgresError.Kind" }?.cases
        #expect(cases["CryptoError"]?.count ?? 0 >= 25 && cases["PostgresError"]?.count ?? 0 >= 8 && cases["JobError"]?.count ?? 0 >= 19,
                "\(cases)")
        for (type, names) in cases.sorted(by: { $0.key < $1.key }) {
            let missing = Set(names).subtracting(sampled[type] ?? [])
            #expect(missing.isEmpty, "\(type): no sample of case(s) \(missing.sorted())")
        }
    }
}
