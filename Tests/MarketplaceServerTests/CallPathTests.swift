import Foundation
import MarketplaceClient
import MarketplaceRPC
import MarketplaceServer
import MarketplaceTestSupport
import Synchronization
import Testing

/// Calls in flight right now and the most seen at once.
private final class Concurrency: Sendable {
    private let state = Mutex<(now: Int, peak: Int, cancelled: Int, started: Int)>((0, 0, 0, 0))
    func enter() { state.withLock { $0.now += 1; $0.started += 1; $0.peak = max($0.peak, $0.now) } }
    func leave() { state.withLock { $0.now -= 1 } }
    func cancelledOne() { state.withLock { $0.cancelled += 1 } }
    var peak: Int { state.withLock { $0.peak } }
    var cancelled: Int { state.withLock { $0.cancelled } }
    var started: Int { state.withLock { $0.started } }
}

/// Sleep (counting concurrency), Hang (until cancelled) and Big (an answer of `value` bytes).
private func callPathRouter(_ concurrency: Concurrency) -> RPCRouter {
    var router = RPCRouter()
    router.register(service: "test.Echo", method: "Sleep") { (request: TTRPCKeyValue, _) in
        concurrency.enter()
        defer { concurrency.leave() }
        try await Task.sleep(for: .milliseconds(Int(request.value) ?? 0))
        return request
    }
    router.register(service: "test.Echo", method: "Hang") { (request: TTRPCKeyValue, _) in
        concurrency.enter()
        defer { concurrency.leave() }
        do {
            try await Task.sleep(for: .seconds(3600))
        } catch {
            concurrency.cancelledOne()
            throw error
        }
        return request
    }
    router.register(service: "test.Echo", method: "Big") { (request: TTRPCKeyValue, _) in
        TTRPCKeyValue(key: request.key, value: String(repeating: "x", count: Int(request.value) ?? 0))
    }
    router.register(service: "test.Echo", method: "Echo") { (request: TTRPCKeyValue, _) in request }
    return router
}

/// The call path (issue 10, items 2 and 10 and "one owner of the call order"):
/// pipelining past the per-connection limit, cancellation when the connection
/// closes, answers past the frame limit, the client meeting an oversized frame.
@Suite("The path of one call")
struct CallPathTests {
    @Test("500 pipelined calls on one connection are all answered; at most the limit run at once")
    func pipelinedPastTheLimit() async throws {
        let concurrency = Concurrency()
        try await withRPCServer(router: callPathRouter(concurrency)) { server, _ in
            let limit = RPCServerConfiguration(socketPath: "").maxConcurrentCallsPerConnection
            let raw = try RawConnection(path: server.socketPath, timeout: 30 * slowdown)
            let count = 500
            var bytes: [UInt8] = []
            for i in 0..<count {
                bytes += requestFrame(
                    streamID: UInt32(2 * i + 1), service: "test.Echo", method: "Sleep",
                    payload: TTRPCKeyValue(key: "\(i)", value: "20").serializedBytes())
            }
            try await raw.send(bytes)
            var codes: [UInt32: Int32] = [:]
            for _ in 0..<count {
                let frame = try await raw.readFrame()
                #expect(codes[frame.streamID] == nil, "stream \(frame.streamID) answered twice")
                codes[frame.streamID] = try frame.response().status?.code ?? 0
            }
            #expect(codes.count == count)
            let failed = codes.values.filter { $0 != 0 }
            #expect(failed.isEmpty, "\(failed.count) of \(count) pipelined calls failed, e.g. code \(failed.first ?? 0)")
            #expect(concurrency.peak <= limit, "\(concurrency.peak) calls ran at once; the limit is \(limit)")
        }
    }

    @Test("in-flight calls are cancelled when their connection closes")
    func cancelledOnClose() async throws {
        let concurrency = Concurrency()
        try await withRPCServer(router: callPathRouter(concurrency)) { server, _ in
            let fd = connectUnix(server.socketPath)
            #expect(fd >= 0)
            var frames: [UInt8] = []
            for i in 0..<3 {
                frames += requestFrame(streamID: UInt32(2 * i + 1), service: "test.Echo", method: "Hang",
                                       payload: TTRPCKeyValue(key: "\(i)").serializedBytes())
            }
            // One of them with a far deadline: its timer must go too.
            var request = TTRPCRequest(service: "test.Echo", method: "Hang", payload: [], timeoutNano: 3_600_000_000_000)
            request.metadata = []
            let body = request.serializedBytes()
            frames += RawConnection.header(length: UInt32(body.count), streamID: 7) + body
            _ = frames.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            try await waitUntil(seconds: 10 * slowdown) { concurrency.started == 4 }
            close(fd)
            try await waitUntil(seconds: 10 * slowdown) { concurrency.cancelled == 4 }
            #expect(concurrency.cancelled == 4, "\(concurrency.cancelled) of 4 calls were cancelled after their connection closed")
            try await waitUntil(seconds: 10 * slowdown) { server.connectionCount == 0 }
        }
    }

    @Test("an answer past the frame limit is RESOURCE_EXHAUSTED with a message, never a frame past the limit")
    func oversizedAnswer() async throws {
        try await withRPCServer(router: callPathRouter(Concurrency())) { server, client in
            let raw = try RawConnection(path: server.socketPath, timeout: 10 * slowdown)
            try await raw.sendRequest(
                streamID: 1, service: "test.Echo", method: "Big",
                payload: TTRPCKeyValue(key: "k", value: "\(FrameHeader.maxBodySize + 1000)").serializedBytes())
            let frame = try await raw.readFrame()
            #expect(frame.streamID == 1)
            #expect(frame.body.count <= FrameHeader.maxBodySize, "a frame of \(frame.body.count) bytes was written")
            let status = try frame.response().status
            #expect(status?.code == StatusCode.resourceExhausted.rawValue)
            #expect(status?.message.contains("limit") == true, "\(status?.message ?? "")")
            // The connection stays usable, and an answer just under the limit still goes out.
            try await raw.sendRequest(
                streamID: 3, service: "test.Echo", method: "Big",
                payload: TTRPCKeyValue(key: "k", value: "\(FrameHeader.maxBodySize - 64)").serializedBytes())
            let fits = try await raw.readFrame()
            #expect(try fits.response().status?.code ?? 0 == 0)
            // Through the client: the same error, at once.
            do {
                let _: TTRPCKeyValue = try await client.unary(
                    service: "test.Echo", method: "Big", request: TTRPCKeyValue(value: "\(FrameHeader.maxBodySize + 1)"),
                    options: CallOptions(timeout: .seconds(30)))
                Issue.record("an oversized answer succeeded")
            } catch let error as RPCError {
                #expect(error.code == .resourceExhausted)
            }
        }
    }

    @Test("the client fails a call at once when the frame it receives is over the limit")
    func clientRefusesOversizedFrame() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.appending("fake.sock")
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in raw.copyBytes(from: Array(path.utf8) + [0]) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        #expect(listen(listener, 4) == 0)
        defer { close(listener) }
        // A fake server: reads the request header, answers stream 1 with a
        // header declaring 5 MiB and the first bytes of that body, then holds
        // the connection open.
        let release = Atomic<Bool>(false)
        let fake = Task {
            try await onThread { () -> Void in
                let fd = accept(listener, nil, nil)
                guard fd >= 0 else { return }
                defer { close(fd) }
                var header = [UInt8](repeating: 0, count: 10)
                _ = recv(fd, &header, 10, Int32(MSG_WAITALL))
                let reply = RawConnection.header(length: 5 << 20, streamID: 1, type: 2) + [UInt8](repeating: 0x41, count: 4096)
                _ = reply.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                while !release.load(ordering: .relaxed) { usleep(10_000) }
            }
        }
        defer { release.store(true, ordering: .relaxed) }
        let client = MarketplaceClient(socketPath: path)
        let start = ContinuousClock.now
        do {
            let _: TTRPCKeyValue = try await client.unary(
                service: "test.Echo", method: "Echo", request: TTRPCKeyValue(), options: CallOptions(timeout: .seconds(20)))
            Issue.record("the call succeeded")
        } catch {
            #expect(error.code == .resourceExhausted, "\(error)")
            #expect(error.message.contains("limit"), "\(error)")
        }
        let waited = ContinuousClock.now - start
        #expect(waited < .seconds(10), "the client waited \(waited) for a call whose answer it had refused")
        await client.close()
        release.store(true, ordering: .relaxed)
        try await fake.value
    }
}

/// Item 2 of issue 10, against the real daemon: answers must not outlive their
/// calls. 100,000 Health calls with a far deadline grow the daemon's RSS by
/// under 16 MiB (each answer used to stay in memory until its deadline).
/// Part of the serialized budgets suite, so that no two of these heavy daemon
/// tests load the machine at once.
extension ConnectionBudgetTests {
    @Test("100,000 Health calls with a far deadline grow the daemon's RSS by under 16 MiB")
    func farDeadlines() async throws {
        let directory = try TemporaryDirectory(prefix: "deadline")
        defer { directory.remove() }
        let socket = directory.appending("s.sock")
        let daemon = try DaemonProcess(
            socketPath: socket, dataDirectory: directory.appending("data"), logPath: directory.appending("daemon.log"))
        try #require(await daemon.waitUntilReady(), "daemon did not start: \(daemon.log)")
        // The calls come from a separate process (a raw ttrpc client in
        // Python, 200 pipelined calls at a time): this process's event loops
        // serve the other tests running in parallel and must not be hogged.
        let script = directory.appending("health.py")
        try Self.healthLoad.write(toFile: script, atomically: true, encoding: .utf8)
        func calls(_ total: Int) async throws {
            let run = try await runProcess("/usr/bin/python3", [script, socket, "\(total)"])
            #expect(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "ok \(total)", "\(run.stdout) \(run.stderr)")
        }
        try await calls(10_000)  // warm up: allocator pools
        let before = residentBytes(of: daemon.pid)
        try await calls(100_000)
        let after = residentBytes(of: daemon.pid)
        let growth = after - before
        print("far deadlines: daemon RSS \(before >> 20) MiB before, \(after >> 20) MiB after 100,000 calls")
        #expect(before > 0 && after > 0)
        #expect(underSanitizer || growth < 16 << 20, "RSS grew by \(growth >> 20) MiB over 100,000 calls")
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0)
    }

    /// N Health/Check calls with a one-hour timeout_nano, 200 pipelined at a
    /// time on one connection; prints "ok K" (K = calls answered OK).
    static let healthLoad = #"""
    import socket, sys

    def varint(v):
        out = b""
        while True:
            b = v & 0x7F
            v >>= 7
            out += bytes([b | 0x80 if v else b])
            if not v:
                return out

    def field(num, data):
        return bytes([num << 3 | 2]) + varint(len(data)) + data

    body = field(1, b"marketplace.health.v1.Health") + field(2, b"Check") + bytes([4 << 3]) + varint(3600 * 10**9)
    path, total = sys.argv[1], int(sys.argv[2])
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    buf, ok, stream, done = b"", 0, 1, 0
    while done < total:
        batch = min(200, total - done)
        frames = []
        for _ in range(batch):
            frames.append(len(body).to_bytes(4, "big") + stream.to_bytes(4, "big") + b"\x01\x00" + body)
            stream += 2
        s.sendall(b"".join(frames))
        got = 0
        while got < batch:
            while len(buf) >= 10 and len(buf) >= 10 + int.from_bytes(buf[:4], "big"):
                n = int.from_bytes(buf[:4], "big")
                resp = buf[10:10 + n]
                buf = buf[10 + n:]
                got += 1
                # Response.status (field 1) empty: code 0.
                if resp[:2] == b"\x0a\x00":
                    ok += 1
            if got < batch:
                chunk = s.recv(1 << 16)
                if not chunk:
                    print("closed after %d" % (done + got))
                    sys.exit(1)
                buf += chunk
        done += batch
    print("ok %d" % ok)
    """#
}
