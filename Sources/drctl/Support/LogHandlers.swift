import Foundation
import Logging
import Synchronization

enum LoggingBootstrap {
    /// The format chosen by the first bootstrap; nil before it.
    private static let chosen = Mutex<LogFormat?>(nil)

    static func once(format: LogFormat, level: Logger.Level) {
        let first = chosen.withLock { chosen -> Bool in
            defer { chosen = chosen ?? format }
            return chosen == nil
        }
        guard first else { return }
        LoggingSystem.bootstrap { label in
            switch format {
            case .text: return StandardErrorLogHandler(label: label, level: level, json: false)
            case .json: return StandardErrorLogHandler(label: label, level: level, json: true)
            }
        }
    }

    /// The format of standard error's lines: JSON once a command asked for JSON logs.
    static var format: LogFormat { chosen.withLock { $0 } ?? .text }
}

/// A command's own error line on standard error: `drctl: error: …` for people, or, when logs
/// are JSON, a JSON object like every log line (`level` error), so that a log collector reading
/// standard error never meets a line it cannot parse.
enum ErrorLine {
    static func write(_ message: String, metadata: Logger.Metadata = [:]) {
        switch LoggingBootstrap.format {
        case .text: TerminalLine.write("drctl: error: \(message)\n")
        case .json: TerminalLine.write(LogLine.json(level: .error, message: message, metadata: metadata) + "\n")
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
            line = LogLine.json(level: event.level, message: "\(event.message)", metadata: merged)
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

/// One JSON log line (without its newline): `ts`, `level`, `msg` and the metadata, as strings.
enum LogLine {
    static func json(level: Logger.Level, message: String, metadata: Logger.Metadata) -> String {
        var object: [String: String] = ["ts": now(), "level": "\(level)", "msg": message]
        for (key, value) in metadata { object[key] = "\(value)" }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    private static func now() -> String {
        Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
