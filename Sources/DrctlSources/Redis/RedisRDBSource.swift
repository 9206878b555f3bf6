import Glibc
import DrctlPipeline

/// An RDB snapshot of a Redis server, taken over the replication protocol the way
/// `redis-cli --rdb` does, as a stream of bytes: drctl poses as a replica (REPLCONF capa eof,
/// REPLCONF rdb-only, SYNC) and passes on exactly the RDB payload, never holding more than
/// its read buffer. No access to the server's data directory is needed.
///
/// The server answers SYNC with either `$<length>\r\n` and that many bytes (disk-based
/// replication), or `$EOF:<40-byte mark>\r\n`, the bytes, then the mark (diskless replication).
/// Before that it may send bare `\n` keep-alives while it writes the snapshot. After the
/// payload a server would stream replication commands: the source stops there and closes.
///
/// The constructor connects and logs in (so that wrong addresses and passwords fail before a
/// pipeline starts); SYNC is sent by the first `read`, whose wait for the snapshot `cancel()`
/// can interrupt.
public final class RedisRDBSource: ByteSource {
    /// How the server sends the RDB.
    public enum Transfer: Sendable, Equatable {
        /// Disk-based: the length is announced up front.
        case length(Int64)
        /// Diskless: the end is a 40-byte mark after the payload.
        case diskless
    }

    public let endpoint: RedisEndpoint
    /// Known once the first `read` has the server's answer to SYNC.
    public private(set) var transfer: Transfer?
    /// RDB bytes delivered so far.
    public private(set) var deliveredBytes: Int64 = 0

    /// The RDB's own account of itself (format version, Redis version, and the exact
    /// replication id and offset of the snapshot), once its first bytes have been read.
    public var snapshotInfo: RedisSnapshotInfo? {
        if case .done(let info) = header.outcome { return info }
        return nil
    }
    private var header = RDBHeaderParser()

    private enum Phase { case connected, streaming, done }
    private var phase = Phase.connected
    private let connection: RedisConnection
    /// Disk-based transfers: bytes of the payload still to come.
    private var remaining: Int64 = 0
    /// Diskless transfers: the end mark, and whether the received bytes end with it.
    private var mark: [UInt8] = []
    private var markSeen = false
    static let markLength = 40

    /// Connects, logs in and announces a replica that accepts diskless transfers.
    public init(endpoint: RedisEndpoint, connectTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(60)) throws {
        self.endpoint = endpoint
        connection = try RedisConnection(endpoint, connectTimeout: connectTimeout, idleTimeout: idleTimeout)
        try connection.authenticate()
        switch try connection.command(["REPLCONF", "capa", "eof"]) {
        case .simple: break
        case .error(let message):
            throw RedisError.commandRefused(address: endpoint.address, command: "REPLCONF capa eof", serverMessage: message)
        default:
            throw RedisError.protocolViolation(address: endpoint.address, detail: "an unexpected reply to REPLCONF")
        }
        // Redis 7+: we want the snapshot only, no replication stream (the server then drops
        // us right after the payload and keeps no backlog for us). Older servers say -ERR.
        _ = try connection.command(["REPLCONF", "rdb-only", "1"])
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        switch phase {
        case .done: return 0
        case .connected:
            try startTransfer()
            phase = .streaming
        case .streaming: break
        }
        guard buffer.count > 0 else { return 0 }
        do {
            let count = transfer == .diskless ? try readDiskless(into: buffer) : try readCounted(into: buffer)
            if header.outcome == .needMore {
                header.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                if header.outcome == .notRDB {
                    throw RedisError.protocolViolation(address: endpoint.address, detail: "the snapshot does not start with the RDB signature 'REDIS'")
                }
            }
            deliveredBytes += Int64(count)
            return count
        } catch RedisError.socketFailed(_, _, let reason) {
            throw incomplete(reason: reason)
        }
    }

    public func finish() throws {
        defer { connection.close() }
        if connection.isCancelled { throw RedisError.cancelled(address: endpoint.address) }
        guard phase == .done else { throw incomplete(reason: nil) }
    }

    public func cancel() {
        connection.cancel()
    }

    // MARK: -

    private func incomplete(reason: String?) -> RedisError {
        var expected: Int64?
        if case .length(let length) = transfer { expected = length }
        return .incompleteTransfer(address: endpoint.address, received: deliveredBytes, expected: expected, reason: reason)
    }

    /// SYNC, then the header of the bulk payload (skipping keep-alive newlines).
    private func startTransfer() throws {
        try connection.send(["SYNC"])
        let waiting = "the RDB snapshot (the server writes it first)"
        while true {
            // Keep-alives: bare newlines, one a second while the server prepares the RDB.
            while true {
                let bytes = connection.buffered
                if let first = bytes.first {
                    if first == 10 { connection.consume(1); continue }
                    break
                }
                if try connection.fill(waitingFor: waiting) == 0 {
                    throw RedisError.connectionClosed(address: endpoint.address, waitingFor: waiting)
                }
            }
            let line = try connection.readLine(waitingFor: waiting)
            let text = String(decoding: line, as: UTF8.self)
            if text.hasPrefix("-") {
                let message = String(text.dropFirst())
                if message.hasPrefix("NOAUTH") { throw RedisError.passwordRequired(address: endpoint.address) }
                throw RedisError.commandRefused(address: endpoint.address, command: "SYNC", serverMessage: message)
            }
            if text.hasPrefix("+") { continue }  // +FULLRESYNC / +CONTINUE: only PSYNC gets them, but harmless
            if text.hasPrefix("$EOF:") {
                let mark = Array(line.dropFirst(5))
                guard mark.count == Self.markLength else {
                    throw RedisError.protocolViolation(address: endpoint.address, detail: "a diskless transfer mark of \(mark.count) bytes instead of \(Self.markLength)")
                }
                self.mark = mark
                transfer = .diskless
                checkMark()
                return
            }
            if text.hasPrefix("$"), let length = Int64(text.dropFirst()), length >= 0 {
                transfer = .length(length)
                remaining = length
                return
            }
            throw RedisError.protocolViolation(address: endpoint.address, detail: "the answer to SYNC was '\(String(text.prefix(80)))', not an RDB transfer")
        }
    }

    private func done() {
        phase = .done
        connection.close()
    }

    /// Disk-based: exactly `length` bytes, from the buffer first, then straight from the socket.
    private func readCounted(into target: UnsafeMutableRawBufferPointer) throws -> Int {
        if remaining == 0 {
            done()
            return 0
        }
        let wanted = Int(min(Int64(target.count), remaining))
        var count = connection.buffered.count
        if count > 0 {
            count = min(count, wanted)
            target.baseAddress!.copyMemory(from: connection.buffered.baseAddress!, byteCount: count)
            connection.consume(count)
        } else {
            count = try connection.readSocket(into: UnsafeMutableRawBufferPointer(rebasing: target[0..<wanted]), waitingFor: "the rest of the RDB")
            if count == 0 { throw incomplete(reason: nil) }
        }
        remaining -= Int64(count)
        if remaining == 0 { done() }
        return count
    }

    /// Diskless: everything up to the mark. The last 40 bytes received stay in the buffer
    /// until more arrive, since they may be the mark; like Redis itself, the mark is looked
    /// for at the end of each read (the server sends nothing after it until the replica acks).
    private func readDiskless(into target: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let available = connection.buffered.count
            if available > Self.markLength {
                let count = min(available - Self.markLength, target.count)
                target.baseAddress!.copyMemory(from: connection.buffered.baseAddress!, byteCount: count)
                connection.consume(count)
                return count
            }
            if markSeen {
                connection.consume(available)
                done()
                return 0
            }
            if try connection.fill(waitingFor: "the rest of the RDB") == 0 {
                throw incomplete(reason: nil)
            }
            checkMark()
        }
    }

    private func checkMark() {
        let bytes = connection.buffered
        guard bytes.count >= Self.markLength else { return }
        markSeen = bytes[(bytes.count - Self.markLength)...].elementsEqual(mark)
    }
}
