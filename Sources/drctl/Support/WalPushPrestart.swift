import DrctlJobs
import Foundation
import Synchronization

/// `wal-push`'s file opened and its sealing started before the command line is parsed.
///
/// PostgreSQL waits for every segment's `wal-push`, and parsing the command line is most of
/// what a process does before its command runs (ArgumentParser reflects over every command's
/// options: about 4 ms of one core, BENCHMARKS.md, "wal-push"). So `Drctl.main` reads the three
/// arguments the sealing needs straight from argv (`--pgdata`, `--compression-level`, the file:
/// the last argument, as `archive_command`'s `%p` is) and starts it; `WalPushCommand` takes that
/// start only if the parsed command line names the same file, data directory and level
/// (`WalPushJob.started(from:)`), and otherwise starts its own. A wrong guess costs CPU, never a
/// result: an error opening the guessed file is only ever thrown for the parsed command.
enum WalPushPrestart {
    private static let started = Mutex<WalPushJob?>(nil)

    /// Starts the sealing when `arguments` (argv) are a `wal-push` command line.
    static func begin(_ arguments: [String]) {
        guard arguments.count >= 3, arguments[1] == WalPushCommand.configuration.commandName,
              let path = arguments.last, !path.hasPrefix("-") else { return }
        let options = arguments.dropFirst(2).dropLast()
        func value(of option: String) -> String? {
            for (index, argument) in zip(options.indices, options) {
                if argument == option { return index + 1 < options.endIndex ? options[index + 1] : nil }
                if argument.hasPrefix(option + "=") { return String(argument.dropFirst(option.count + 1)) }
            }
            return nil
        }
        var level = WalPushJob.defaultCompressionLevel
        if let text = value(of: "--compression-level") {
            guard let parsed = Int32(text) else { return }
            level = parsed
        }
        let dataDirectory = value(of: "--pgdata") ?? FileManager.default.currentDirectoryPath
        let job = WalPushJob(target: "", path: path, dataDirectory: dataDirectory, compressionLevel: level).started()
        started.withLock { $0 = job }
    }

    /// The job started by `begin`, if any (once).
    static func take() -> WalPushJob? {
        started.withLock { job in
            defer { job = nil }
            return job
        }
    }
}
