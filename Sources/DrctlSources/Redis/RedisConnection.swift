import Glibc
import DrctlPipeline
import Synchronization

/// One reply of the Redis serialization protocol (RESP2).
enum RedisReply: Equatable {
    case simple(String)
    case error(String)
    case integer(Int64)
    case bulk([UInt8]?)
    case array([RedisReply]?)
}

/// A plain TCP connection to a Redis server with a read buffer, RESP commands and replies.
///
/// Used from one thread, except `cancel()`, which may come from any thread: it shuts the
/// socket down (never closes it, so the descriptor cannot be reused under a blocked read).
final class RedisConnection {
    let endpoint: RedisEndpoint
    var address: String { endpoint.address }
    let idleSeconds: Int

    private struct State {
        var fd: Int32
        var cancelled = false
    }
    private let state: Mutex<State>
    /// The descriptor as the reading thread sees it; -1 once closed.
    private var fd: Int32

    /// Bytes received but not yet consumed are `buffer[start..<end]`.
    private let buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0

    static let bufferSize = 256 << 10
    /// A reply line longer than this is not Redis talking.
    static let maxLine = 64 << 10

    /// Connects (trying every address the name resolves to, each within `connectTimeout`).
    /// A read that waits longer than `idleTimeout` fails.
    init(_ endpoint: RedisEndpoint, connectTimeout: Duration, idleTimeout: Duration) throws {
        self.endpoint = endpoint
        self.idleSeconds = max(1, Int(idleTimeout.components.seconds))
        let fd = try Self.connect(endpoint, timeout: connectTimeout, idleSeconds: idleSeconds)
        self.fd = fd
        self.state = Mutex(State(fd: fd))
        self.buffer = .allocate(byteCount: Self.bufferSize, alignment: 16)
    }

    deinit {
        close()
        buffer.deallocate()
    }

    // MARK: connecting

    private static func connect(_ endpoint: RedisEndpoint, timeout: Duration, idleSeconds: Int) throws -> Int32 {
        let address = endpoint.address
        guard (1...65535).contains(endpoint.port) else {
            throw RedisError.unreachable(address: address, reason: "\(endpoint.port) is not a TCP port")
        }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(endpoint.host, String(endpoint.port), &hints, &list)
        guard resolved == 0 else {
            let reason = resolved == EAI_SYSTEM ? String(cString: strerror(errno)) : String(cString: gai_strerror(resolved))
            throw RedisError.cannotResolve(address: address, reason: reason)
        }
        defer { freeaddrinfo(list) }

        let timeoutMs = Int(timeout.components.seconds) * 1000 + Int(timeout.components.attoseconds / 1_000_000_000_000_000)
        var lastError = RedisError.unreachable(address: address, reason: "the name has no address")
        var next = list
        while let info = next {
            next = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
            if fd < 0 {
                lastError = .socketFailed(address: address, operation: "socket", reason: String(cString: strerror(errno)))
                continue
            }
            if let error = connectOne(fd, info.pointee, timeoutMs: timeoutMs, address: address) {
                Glibc.close(fd)
                lastError = error
                continue
            }
            var one: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            var idle = timeval(tv_sec: idleSeconds, tv_usec: 0)
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &idle, socklen_t(MemoryLayout<timeval>.size))
            _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &idle, socklen_t(MemoryLayout<timeval>.size))
            return fd
        }
        throw lastError
    }

    /// Non-blocking connect bounded by `timeoutMs`; nil on success (the socket is blocking again).
    private static func connectOne(_ fd: Int32, _ info: addrinfo, timeoutMs: Int, address: String) -> RedisError? {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        if Glibc.connect(fd, info.ai_addr, info.ai_addrlen) != 0 {
            guard errno == EINPROGRESS || errno == EINTR else { return connectError(errno, address) }
            let clock = ContinuousClock()
            let deadline = clock.now + .milliseconds(timeoutMs)
            while true {
                var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let left = max(0, Int32(clamping: (deadline - clock.now).components.seconds * 1000
                    + (deadline - clock.now).components.attoseconds / 1_000_000_000_000_000))
                let ready = poll(&poller, 1, left)
                if ready < 0 && errno == EINTR { continue }
                if ready < 0 { return .socketFailed(address: address, operation: "poll", reason: String(cString: strerror(errno))) }
                if ready == 0 {
                    let limit = timeoutMs % 1000 == 0 ? "\(timeoutMs / 1000) s" : "\(timeoutMs) ms"
                    return .unreachable(address: address, reason: "no answer within \(limit) (connect timeout)")
                }
                break
            }
            var failure: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &length)
            if failure != 0 { return connectError(failure, address) }
        }
        _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)
        return nil
    }

    private static func connectError(_ code: Int32, _ address: String) -> RedisError {
        if code == ECONNREFUSED { return .connectionRefused(address: address) }
        return .unreachable(address: address, reason: String(cString: strerror(code)))
    }

    // MARK: lifetime

    /// Makes a blocked read return soon; any thread.
    func cancel() {
        state.withLock { state in
            state.cancelled = true
            if state.fd >= 0 { _ = shutdown(state.fd, Int32(SHUT_RDWR)) }
        }
    }

    var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Closes the socket; the reading thread only.
    func close() {
        state.withLock { state in
            if state.fd >= 0 { Glibc.close(state.fd) }
            state.fd = -1
        }
        fd = -1
    }

    // MARK: bytes

    /// Bytes received and not yet consumed.
    var buffered: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: buffer[start..<end])
    }

    func consume(_ count: Int) {
        precondition(count <= end - start)
        start += count
        if start == end { start = 0; end = 0 }
    }

    /// Reads what the socket has into the buffer (moving unconsumed bytes to its front when
    /// its tail is full): the count, 0 at the end of the stream.
    func fill(waitingFor what: String) throws -> Int {
        if end == buffer.count {
            let kept = end - start
            if start > 0 {
                (buffer.baseAddress! ).copyMemory(from: buffer.baseAddress! + start, byteCount: kept)
            }
            start = 0
            end = kept
            precondition(end < buffer.count, "a reply is larger than the read buffer")
        }
        let count = try readSocket(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...]), waitingFor: what)
        end += count
        return count
    }

    /// Reads from the socket straight into `target` (bypassing the buffer, which must be empty).
    func readSocket(into target: UnsafeMutableRawBufferPointer, waitingFor what: String) throws -> Int {
        guard fd >= 0 else { throw RedisError.socketFailed(address: address, operation: "read", reason: "the connection is closed") }
        switch FileDescriptorIO.read(fd, into: target) {
        case .success(let count):
            if count == 0 && isCancelled { throw RedisError.cancelled(address: address) }
            return count
        case .failure(let error):
            if isCancelled { throw RedisError.cancelled(address: address) }
            if error.code == EAGAIN || error.code == EWOULDBLOCK {
                throw RedisError.timedOut(address: address, seconds: idleSeconds, waitingFor: what)
            }
            throw RedisError.socketFailed(address: address, operation: "read", reason: error.description)
        }
    }

    // MARK: RESP

    /// Sends one command as an array of bulk strings.
    func send(_ arguments: [String]) throws {
        var bytes: [UInt8] = Array("*\(arguments.count)\r\n".utf8)
        for argument in arguments {
            let utf8 = Array(argument.utf8)
            bytes += Array("$\(utf8.count)\r\n".utf8)
            bytes += utf8
            bytes += [13, 10]
        }
        guard fd >= 0 else { throw RedisError.socketFailed(address: address, operation: "write", reason: "the connection is closed") }
        let failure = bytes.withUnsafeBytes { FileDescriptorIO.writeAll(fd, $0) }
        if let failure {
            if isCancelled { throw RedisError.cancelled(address: address) }
            if failure.code == EAGAIN || failure.code == EWOULDBLOCK {
                throw RedisError.timedOut(address: address, seconds: idleSeconds, waitingFor: "the server to accept \(arguments[0])")
            }
            throw RedisError.socketFailed(address: address, operation: "sending \(arguments[0])", reason: failure.description)
        }
    }

    /// Sends a command and reads its reply; a NOAUTH error becomes `passwordRequired`.
    func command(_ arguments: [String]) throws -> RedisReply {
        try send(arguments)
        let reply = try readReply(waitingFor: "the reply to \(arguments[0])")
        if case .error(let message) = reply, message.hasPrefix("NOAUTH") {
            throw RedisError.passwordRequired(address: address)
        }
        return reply
    }

    /// One line without its CRLF.
    func readLine(waitingFor what: String) throws -> [UInt8] {
        var searched = 0
        while true {
            let bytes = buffered
            if bytes.count >= 2 {
                var index = max(0, searched - 1)
                while index < bytes.count - 1 {
                    if bytes[index] == 13 && bytes[index + 1] == 10 {
                        let line = Array(bytes[0..<index])
                        consume(index + 2)
                        return line
                    }
                    index += 1
                }
            }
            searched = bytes.count
            if bytes.count > Self.maxLine {
                throw RedisError.protocolViolation(address: address, detail: "a reply line longer than \(Self.maxLine) bytes while waiting for \(what)")
            }
            if try fill(waitingFor: what) == 0 {
                throw RedisError.connectionClosed(address: address, waitingFor: what)
            }
        }
    }

    /// Exactly `count` bytes.
    func readExact(_ count: Int, waitingFor what: String) throws -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(count)
        while result.count < count {
            if buffered.isEmpty, try fill(waitingFor: what) == 0 {
                throw RedisError.connectionClosed(address: address, waitingFor: what)
            }
            let take = min(buffered.count, count - result.count)
            result += buffered[0..<take]
            consume(take)
        }
        return result
    }

    func readReply(waitingFor what: String) throws -> RedisReply {
        let line = try readLine(waitingFor: what)
        guard let kind = line.first else {
            throw RedisError.protocolViolation(address: address, detail: "an empty reply line while waiting for \(what)")
        }
        let rest = String(decoding: line.dropFirst(), as: UTF8.self)
        switch kind {
        case UInt8(ascii: "+"): return .simple(rest)
        case UInt8(ascii: "-"): return .error(rest)
        case UInt8(ascii: ":"):
            guard let value = Int64(rest) else { break }
            return .integer(value)
        case UInt8(ascii: "$"):
            guard let length = Int(rest), length <= 512 << 20 else { break }
            if length < 0 { return .bulk(nil) }
            let bytes = try readExact(length + 2, waitingFor: what)
            return .bulk(Array(bytes.dropLast(2)))
        case UInt8(ascii: "*"):
            guard let count = Int(rest) else { break }
            if count < 0 { return .array(nil) }
            return .array(try (0..<count).map { _ in try readReply(waitingFor: what) })
        default: break
        }
        let text = String(decoding: line.prefix(80), as: UTF8.self)
        throw RedisError.protocolViolation(address: address, detail: "unexpected reply '\(text)' while waiting for \(what)")
    }

    /// AUTH with the endpoint's password (and ACL user), when it has one.
    func authenticate() throws {
        guard endpoint.password != nil || endpoint.username != nil else { return }
        var arguments = ["AUTH"]
        if let username = endpoint.username { arguments.append(username) }
        arguments.append(endpoint.password ?? "")
        switch try command(arguments) {
        case .simple: return
        case .error(let message):
            // A server without a password accepts anyone: the configured one is merely unneeded.
            if endpoint.username == nil && message.contains("without any password configured") { return }
            throw RedisError.authenticationFailed(address: address, user: endpoint.username, serverMessage: message)
        default:
            throw RedisError.protocolViolation(address: address, detail: "an unexpected reply to AUTH")
        }
    }
}
