import Foundation
import MarketplaceProtos

/// A blocking Unix-socket peer that sends arbitrary bytes and reads raw frames:
/// for tests of what the server does with input no well-behaved client sends.
/// Every read waits at most `timeout` seconds. Blocking reads run on a Dispatch
/// queue, never on Swift's cooperative threads, which the server under test needs.
public final class RawConnection: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// A frame as read off the socket.
    public struct ReceivedFrame: Sendable {
        public let streamID: UInt32
        public let type: UInt8
        public let flags: UInt8
        public let body: [UInt8]

        /// The body decoded as a ttrpc Response.
        public func response() throws -> TTRPCResponse { try TTRPCResponse(serializedBytes: body) }
    }

    private let fd: Int32
    public let timeout: Double

    public init(path: String, timeout: Double = 5) throws {
        self.timeout = timeout
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8)
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            // No close(fd) here: every stored property is set, so the throw
            // runs deinit, which closes it. Closing it here too closed the
            // descriptor twice: by then the server under test could have got
            // that number for a connection it accepted (NIO then failed
            // epoll_ctl with EBADF and crashed the test process).
            throw Failure(description: "connect(\(path)) failed: errno \(errno)")
        }
    }

    deinit { close(fd) }

    /// Sends bytes as they are.
    public func send(_ bytes: [UInt8]) async throws {
        try await offPool { try self.sendBlocking(bytes) }
    }

    private func sendBlocking(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send failed: errno \(errno)") }
            offset += n
        }
    }

    /// Sends one frame with the given header fields and body.
    public func sendFrame(streamID: UInt32, type: UInt8 = 1, flags: UInt8 = 0, body: [UInt8], declaredLength: UInt32? = nil) async throws {
        try await send(Self.header(length: declaredLength ?? UInt32(body.count), streamID: streamID, type: type, flags: flags) + body)
    }

    /// Sends a ttrpc request for `service/method`.
    public func sendRequest(
        streamID: UInt32, service: String, method: String, payload: [UInt8] = [],
        timeoutNano: Int64 = 0, metadata: [(String, String)] = []
    ) async throws {
        var request = TTRPCRequest(service: service, method: method, payload: payload, timeoutNano: timeoutNano)
        request.metadata = metadata.map { TTRPCKeyValue(key: $0.0, value: $0.1) }
        try await sendFrame(streamID: streamID, body: request.serializedBytes())
    }

    public static func header(length: UInt32, streamID: UInt32, type: UInt8 = 1, flags: UInt8 = 0) -> [UInt8] {
        withUnsafeBytes(of: length.bigEndian, Array.init) + withUnsafeBytes(of: streamID.bigEndian, Array.init) + [type, flags]
    }

    /// Reads exactly `count` bytes, or fails on timeout or end of stream.
    func read(count: Int) throws -> [UInt8] {
        var result = [UInt8]()
        result.reserveCapacity(count)
        while result.count < count {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, Int32(timeout * 1000)) > 0 else { throw Failure(description: "timed out reading") }
            var chunk = [UInt8](repeating: 0, count: count - result.count)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw Failure(description: "connection closed by the server") }
            result += chunk[..<n]
        }
        return result
    }

    /// Reads one frame, waiting off the cooperative thread pool.
    public func readFrame() async throws -> ReceivedFrame {
        try await offPool { try self.readFrameBlocking() }
    }

    private func readFrameBlocking() throws -> ReceivedFrame {
        let header = try read(count: 10)
        let length = header[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let stream = header[4..<8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let body = try read(count: Int(length))
        return ReceivedFrame(streamID: stream, type: header[8], flags: header[9], body: body)
    }

    /// Whether the server closed the connection within `seconds`.
    public func isClosedByPeer(within seconds: Double) async -> Bool {
        (try? await offPool { self.isClosedBlocking(within: seconds) }) ?? false
    }

    private func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        // A thread of its own: on Linux, Dispatch's global queues are as narrow
        // as the cooperative pool, so blocking there starves the server too.
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    private func isClosedBlocking(within seconds: Double) -> Bool {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, Int32(seconds * 1000)) > 0 else { return false }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, Int32(MSG_PEEK)) == 0
    }
}
