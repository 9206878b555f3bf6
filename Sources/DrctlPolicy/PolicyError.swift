/// One thing wrong with a policy, located in the file.
public struct PolicyProblem: Sendable, Equatable, CustomStringConvertible {
    /// The policy file as named to the loader.
    public var file: String
    /// 1-based; 0 when the problem is not about a place in the file (e.g. it cannot be read).
    public var line: Int
    /// 1-based, counted in Unicode scalars; 0 with `line` 0.
    public var column: Int
    /// Where in the document, e.g. `targets[1].schedule`; empty for problems of the whole file.
    public var keyPath: String
    public var message: String

    /// `file`, `keyPath` and `message` are kept with their control characters escaped
    /// (`EchoedText`): they echo what the file holds.
    public init(file: String, line: Int, column: Int, keyPath: String, message: String) {
        self.file = EchoedText.escaped(file)
        self.line = line
        self.column = column
        self.keyPath = EchoedText.escaped(keyPath)
        self.message = EchoedText.escaped(message)
    }

    /// `FILE:LINE:COLUMN: KEY.PATH: message` (parts that are unknown are left out).
    public var description: String {
        var text = file
        if line > 0 { text += ":\(line):\(column)" }
        if !keyPath.isEmpty { text += ": \(keyPath)" }
        return text + ": " + message
    }
}

/// Everything wrong with a policy, in file order. Thrown by `PolicyLoader`.
public struct PolicyError: Error, Sendable, CustomStringConvertible {
    public var problems: [PolicyProblem]

    public init(problems: [PolicyProblem]) {
        self.problems = problems
    }

    /// One problem per line.
    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}

/// A value that is not a valid cron expression or duration.
public struct PolicyValueError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
