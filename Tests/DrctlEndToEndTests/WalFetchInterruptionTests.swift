import DrctlSources
import DrctlTestSupport
import Foundation
import Glibc
import Testing

/// `wal-fetch` stopped while it writes `%p` (beside it, under a hidden name: `FileSink`).
/// Killed (SIGKILL, as an OOM kill or a crash would), it leaves its hidden file in pg_wal; the
/// next `wal-fetch` for the same `%p` (PostgreSQL runs one at a time for it) removes it, and
/// nothing else, before it writes. Stopped by SIGTERM or SIGINT (a server shutdown), it removes
/// its own hidden file and exits 143 or 130.
@Suite(.serialized) struct WalFetchInterruptionTests {
    /// A real segment zstd cannot shrink (its write lasts), pushed to the sandbox's directory
    /// region, and a pg_wal-like directory to fetch it into as `RECOVERYXLOG`.
    struct Fetching {
        let wal: WalArchiving
        let system: String
        let name: String
        let copy: String
        let directory: String
        var destination: String { "\(directory)/RECOVERYXLOG" }

        init() throws {
            wal = try WalArchiving(settings: ["archive_mode = off"])
            system = try wal.systemIdentifier
            (name, copy) = try wal.incompressibleSegment()
            let pushed = try Drctl.run(["wal-push", "--policy", wal.sandbox.policyPath, "--target", "main",
                                        "--pgdata", wal.cluster.dataDirectory.path, copy])
            guard pushed.status == 0 else { throw Command.ShellFailed(script: "wal-push", result: pushed) }
            directory = "\(wal.sandbox.root)/pg_wal"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }

        /// The hidden files being (or left) written for `RECOVERYXLOG` (FileSink's names).
        func partials() -> [String] {
            let prefix = ".RECOVERYXLOG.drctl-partial-"
            return entries().filter { $0.hasPrefix(prefix) && $0.dropFirst(prefix.count).allSatisfy(\.isNumber) }
        }

        func entries() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted() }

        var fetchArguments: [String] {
            ["wal-fetch", "--policy", wal.sandbox.policyPath, "--target", "main", "--system-identifier", system,
             "--spool", "off", name, destination]
        }

        /// A wal-fetch stopped (SIGSTOP) the moment its hidden file appears, with nothing at
        /// `RECOVERYXLOG` yet (a fetch caught too late is undone and started again); nil if
        /// none was caught so.
        func stoppedMidWrite() throws -> ChildProcess? {
            let before = Set(partials())
            for _ in 0..<10 {
                let fetch = try ChildProcess(argv: [Drctl.binary] + fetchArguments, environment: .inherited(adding: [:]))
                let seen = WalPushInterruptionTests.spin(within: 30) { !Set(partials()).isSubset(of: before) }
                kill(fetch.pid, SIGSTOP)
                if seen && !FileManager.default.fileExists(atPath: destination) { return fetch }
                kill(fetch.pid, SIGKILL)
                _ = fetch.wait()
                try? FileManager.default.removeItem(atPath: destination)
                for file in Set(partials()).subtracting(before) { try? FileManager.default.removeItem(atPath: "\(directory)/\(file)") }
            }
            return nil
        }

        var fetchedRightly: Bool {
            (try? Data(contentsOf: URL(fileURLWithPath: destination))) == (try? Data(contentsOf: URL(fileURLWithPath: copy)))
        }
    }

    @Test func aKilledFetchsPartialIsRemovedByTheNextFetchOfTheSameDestinationAndNothingElse() throws {
        let fetching = try Fetching()
        // Not this destination's hidden files (another name, not hidden, not drctl's suffix) stay.
        let others = [".RECOVERYHISTORY.drctl-partial-12345", "RECOVERYXLOG.drctl-partial-12345",
                      ".RECOVERYXLOG.drctl-partial-keep", ".RECOVERYXLOGX.drctl-partial-12345", fetching.name]
        for other in others {
            FileManager.default.createFile(atPath: "\(fetching.directory)/\(other)", contents: Data("not drctl's".utf8))
        }
        // Each killed fetch leaves its own; the one after it removed the one before (they do not pile up).
        for _ in 0..<2 {
            let fetch = try #require(try fetching.stoppedMidWrite(), "wal-fetch was never stopped while writing")
            kill(fetch.pid, SIGKILL)
            _ = fetch.wait()
            #expect(fetching.partials().count == 1, "\(fetching.entries())")
            #expect(!FileManager.default.fileExists(atPath: fetching.destination))
        }

        let again = try Drctl.run(fetching.fetchArguments)
        #expect(again.status == 0, "\(again)")
        #expect(fetching.fetchedRightly)
        #expect(fetching.partials().isEmpty, "\(fetching.entries())")
        #expect(fetching.entries() == (others + ["RECOVERYXLOG"]).sorted())
        for other in others {
            #expect(FileManager.default.contents(atPath: "\(fetching.directory)/\(other)") == Data("not drctl's".utf8))
        }
    }

    /// PostgreSQL takes a restore_command ended by SIGTERM (or exiting 128 + SIGTERM) for a
    /// shutdown, not a failure.
    @Test func aFetchStoppedBySIGTERMOrSIGINTRemovesItsPartialAndExitsAsInterrupted() throws {
        let fetching = try Fetching()
        for (signal, status) in [(SIGTERM, Int32(143)), (SIGINT, Int32(130))] {
            let fetch = try #require(try fetching.stoppedMidWrite(), "wal-fetch was never stopped while writing")
            kill(fetch.pid, signal)
            kill(fetch.pid, SIGCONT)
            let exit = fetch.wait()
            #expect(exit == .exited(code: status), "\(exit): \(fetch.stderr)")
            #expect(fetching.partials().isEmpty, "\(fetching.entries())")
            #expect(!FileManager.default.fileExists(atPath: fetching.destination))
        }
        let again = try Drctl.run(fetching.fetchArguments)
        #expect(again.status == 0, "\(again)")
        #expect(fetching.fetchedRightly)
        #expect(fetching.entries() == ["RECOVERYXLOG"])
    }
}
