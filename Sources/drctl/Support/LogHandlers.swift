import Foundation
import Logging
import Synchronization

enum LoggingBootstrap {
    private static let done = Mutex(false)

    static func once(format: LogFormat, level: Logger.Level) {
        let first = done.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        LoggingSystem.bootstrap { label in
            switch format {
            case .text: return StandardErrorLogHandler(label: label, level: level, json: false)
            case .json: return StandardErrorLogHandler(label: label, level: level, json: true)
            }
        }
    }
}

/// Writes one line per event to standard error: `LEVEL message key=value …` for people, or a
/// JSON object (`ts`, `level`, `msg`, metadata) for log collectors.
struct StandardErrorLogHandler: LogHandler {
    let label: String
    let json: Bool
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    init(label: String, level: Logger.Level, json: Bool) {
        self.label = label
        self.logLevel = level
        self.json = json
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let line: String
        if json {
            var object: [String: String] = ["ts": LogClock.now(), "level": "\(event.level)", "msg": "\(event.message)"]
            for (key, value) in merged { object[key] = "\(value)" }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        } else {
            let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\(quoted("\($0.value)"))" }
            line = (["\(event.level)".uppercased(), "\(event.message)"] + fields).joined(separator: " ")
        }
        TerminalLine.write(line + "\n")
    }

    private func quoted(_ value: String) -> String {
        value.contains(" ") || value.isEmpty ? "\"\(value)\"" : value
    }
}

private enum LogClock {
    static func now() -> String {
        Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
