import Foundation
import Glibc
import Synchronization
import DrctlJobs
import DrctlPipeline

/// Standard error, shared by log lines and the progress line so they don't garble each other.
enum TerminalLine {
    private static let lock = Mutex(false)   // true while a progress line is on screen

    static func write(_ text: String) {
        lock.withLock { showing in
            if showing { put("\r\u{1B}[K") }
            put(text)
            showing = false
        }
    }

    static func status(_ text: String) {
        lock.withLock { showing in
            put("\r\u{1B}[K" + text)
            showing = true
        }
    }

    /// write(2) to fd 2: unbuffered, so log lines and errors are never lost on exit.
    private static func put(_ text: String) {
        _ = Array(text.utf8).withUnsafeBytes { FileDescriptorIO.writeAll(2, $0) }
    }

    static func clearStatus() {
        lock.withLock { showing in
            if showing { put("\r\u{1B}[K") }
            showing = false
        }
    }
}

/// Bytes done, rate and (when the total is known) ETA, redrawn twice a second on a terminal.
/// Only used when standard error is a TTY: logs and cron mails stay clean.
final class TerminalProgress: ProgressObserver {
    private struct Active {
        var label: String
        var counter: ByteCounter
        var total: UInt64?
        var started: Date
    }
    private let active = Mutex<Active?>(nil)
    private let generation = Atomic<Int>(0)

    static func forStandardError() -> TerminalProgress? {
        isatty(2) == 1 ? TerminalProgress() : nil
    }

    func began(_ label: String, counter: ByteCounter, total: UInt64?) {
        active.withLock { $0 = Active(label: label, counter: counter, total: total, started: Date()) }
        let mine = generation.add(1, ordering: .relaxed).newValue
        Thread.detachNewThread { [self] in
            while generation.load(ordering: .relaxed) == mine {
                usleep(500_000)
                guard generation.load(ordering: .relaxed) == mine, let line = render() else { break }
                TerminalLine.status(line)
            }
        }
    }

    func ended() {
        generation.add(1, ordering: .relaxed)
        active.withLock { $0 = nil }
        TerminalLine.clearStatus()
    }

    private func render() -> String? {
        active.withLock { state in
            guard let state else { return nil }
            let done = state.counter.total
            let seconds = max(Date().timeIntervalSince(state.started), 0.001)
            let rate = Double(done) / seconds
            var line = "\(state.label): \(ByteFormat.human(done))"
            if let total = state.total, total > 0 {
                line += " of \(ByteFormat.human(total)) (\(min(100, done * 100 / total))%)"
            }
            line += ", \(ByteFormat.human(UInt64(rate)))/s"
            if let total = state.total, rate > 0, total > done {
                line += ", ETA \(ByteFormat.duration(Double(total - done) / rate))"
            }
            return line
        }
    }
}
