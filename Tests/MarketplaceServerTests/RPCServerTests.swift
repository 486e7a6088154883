import Foundation
import Synchronization
import MarketplaceClient
import MarketplaceRPC
import MarketplaceServer
import MarketplaceTestSupport
import Testing

/// Counts Sleep calls that reached their handler, so a test can wait for a call
/// to be truly in flight.
private final class StartedCalls: Sendable {
    private let count = Mutex(0)
    func started() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

/// A router with test methods: echo metadata and peer, sleep, wait at a gate.
private func testRouter(started: StartedCalls = StartedCalls(), gate: Latch = Latch()) -> RPCRouter {
    var router = RPCRouter()
    router.register(service: "test.Echo", method: "Wait") { (request: TTRPCKeyValue, context) in
        await gate.wait()
        return request
    }
    router.register(service: "test.Echo", method: "Echo") { (request: TTRPCKeyValue, context) in
        switch request.key {
        case "metadata": TTRPCKeyValue(key: "metadata", value: context.metadata.values(for: request.value).joined(separator: ","))
        case "peer": TTRPCKeyValue(key: "peer", value: "\(context.peer.uid) \(context.peer.gid) \(context.peer.pid)")
        default: request
        }
    }
    router.register(service: "test.Echo", method: "Sleep") { (request: TTRPCKeyValue, context) in
        started.started()
        try await Task.sleep(for: .milliseconds(Int(request.value) ?? 0))
        return request
    }
    return router
}

private let echo = (service: "test.Echo", method: "Echo")

@Suite("RPC server over a real socket")
struct RPCServerTests {
    @Test("health check through the client on the real users server")
    func health() async throws {
        try await withUsersServer { _, client in
            let response = try await client.health.check()
            #expect(response.status == .serving)
            #expect(response.version == ServiceVersion.current)
        }
    }

    @Test("unknown service and unknown method answer UNIMPLEMENTED naming them")
    func unimplemented() async throws {
        try await withRPCServer(router: testRouter()) { _, client in
            await #expect(throws: RPCError(.unimplemented, "unknown service no.Such")) {
                let _: TTRPCKeyValue = try await client.unary(service: "no.Such", method: "X", request: TTRPCKeyValue())
            }
            await #expect(throws: RPCError(.unimplemented, "unknown method Nope of service test.Echo")) {
                let _: TTRPCKeyValue = try await client.unary(service: "test.Echo", method: "Nope", request: TTRPCKeyValue())
            }
            // The connection is still good.
            let ok: TTRPCKeyValue = try await client.unary(service: echo.service, method: echo.method, request: TTRPCKeyValue(key: "a", value: "b"))
            #expect(ok == TTRPCKeyValue(key: "a", value: "b"))
        }
    }

    @Test("metadata reaches the handler, repeated keys in order, keys lowercased")
    func metadata() async throws {
        try await withRPCServer(router: testRouter()) { _, client in
            var options = CallOptions()
            options.metadata.add("X-Test", "one")
            options.metadata.add("x-test", "two")
            let reply: TTRPCKeyValue = try await client.unary(
                service: echo.service, method: echo.method, request: TTRPCKeyValue(key: "metadata", value: "x-test"), options: options)
            #expect(reply.value == "one,two")
        }
    }

    @Test("the handler sees the peer's uid, gid and pid from SO_PEERCRED")
    func peerCredentials() async throws {
        try await withRPCServer(router: testRouter()) { _, client in
            let reply: TTRPCKeyValue = try await client.unary(
                service: echo.service, method: echo.method, request: TTRPCKeyValue(key: "peer"))
            #expect(reply.value == "\(getuid()) \(getgid()) \(getpid())")
        }
    }

    @Test("many calls in flight on one connection, each answered with its own result")
    func concurrentCalls() async throws {
        try await withRPCServer(router: testRouter()) { _, client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<200 {
                    group.addTask {
                        let reply: TTRPCKeyValue = try await client.unary(
                            service: echo.service, method: "Sleep", request: TTRPCKeyValue(key: "\(i)", value: "\(i % 7)"))
                        #expect(reply.key == "\(i)")
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test("responses come back in completion order, matched by stream id")
    func outOfOrder() async throws {
        let gate = Latch()
        defer { gate.open() }
        try await withRPCServer(router: testRouter(gate: gate)) { server, _ in
            let raw = try RawConnection(path: server.socketPath)
            // Stream 1 waits until the test has the answer to stream 3: a server
            // that answered in arrival order would never answer at all.
            try await raw.sendRequest(streamID: 1, service: "test.Echo", method: "Wait", payload: TTRPCKeyValue(key: "slow").serializedBytes())
            try await raw.sendRequest(streamID: 3, service: "test.Echo", method: "Echo", payload: TTRPCKeyValue(key: "fast").serializedBytes())
            let first = try await raw.readFrame()
            gate.open()
            let second = try await raw.readFrame()
            #expect(first.streamID == 3)
            #expect(first.type == 2)
            #expect(second.streamID == 1)
            #expect(try TTRPCKeyValue(serializedBytes: second.response().payload).key == "slow")
        }
    }

    @Test("the server enforces timeout_nano as DEADLINE_EXCEEDED without waiting for the handler")
    func serverDeadline() async throws {
        try await withRPCServer(router: testRouter()) { server, _ in
            let raw = try RawConnection(path: server.socketPath)
            let start = ContinuousClock.now
            try await raw.sendRequest(
                streamID: 1, service: "test.Echo", method: "Sleep",
                payload: TTRPCKeyValue(value: "5000").serializedBytes(), timeoutNano: 100_000_000)
            let response = try await raw.readFrame().response()
            #expect(response.status?.code == StatusCode.deadlineExceeded.rawValue)
            #expect(ContinuousClock.now - start < .seconds(4))  // the handler would take 5 s
        }
    }

    @Test("the client's own timeout fails the call with DEADLINE_EXCEEDED")
    func clientDeadline() async throws {
        try await withRPCServer(router: testRouter()) { _, client in
            do {
                let _: TTRPCKeyValue = try await client.unary(
                    service: echo.service, method: "Sleep", request: TTRPCKeyValue(value: "3000"),
                    options: CallOptions(timeout: .milliseconds(100)))
                Issue.record("call should have timed out")
            } catch let error as RPCError {
                #expect(error.code == .deadlineExceeded)
            }
        }
    }

    @Test("a payload that does not decode answers INVALID_ARGUMENT and the connection stays usable")
    func undecodablePayload() async throws {
        try await withRPCServer(router: testRouter()) { server, _ in
            let raw = try RawConnection(path: server.socketPath)
            try await raw.sendRequest(streamID: 1, service: "test.Echo", method: "Echo", payload: [0x0A, 0x09, 0x01])
            let bad = try await raw.readFrame()
            #expect(bad.streamID == 1)
            #expect(try bad.response().status?.code == StatusCode.invalidArgument.rawValue)
            try await raw.sendRequest(streamID: 3, service: "test.Echo", method: "Echo", payload: TTRPCKeyValue(key: "k").serializedBytes())
            let good = try await raw.readFrame().response()
            #expect(good.status?.code ?? 0 == 0)
        }
    }

    @Test("a body that is not a ttrpc Request answers INVALID_ARGUMENT on that stream id")
    func badEnvelope() async throws {
        try await withRPCServer(router: testRouter()) { server, _ in
            let raw = try RawConnection(path: server.socketPath)
            try await raw.sendFrame(streamID: 7, body: [0xFF, 0xFF, 0xFF])
            let frame = try await raw.readFrame()
            #expect(frame.streamID == 7)
            #expect(try frame.response().status?.code == StatusCode.invalidArgument.rawValue)
        }
    }

    @Test("a request on an even stream id answers INVALID_ARGUMENT")
    func evenStreamID() async throws {
        try await withRPCServer(router: testRouter()) { server, _ in
            let raw = try RawConnection(path: server.socketPath)
            try await raw.sendRequest(streamID: 2, service: "test.Echo", method: "Echo")
            let frame = try await raw.readFrame()
            #expect(frame.streamID == 2)
            let status = try frame.response().status
            #expect(status?.code == StatusCode.invalidArgument.rawValue)
            #expect(status?.message.contains("even") == true)
        }
    }

    @Test("frames of unknown type are ignored and the connection keeps working")
    func unknownFrameType() async throws {
        try await withRPCServer(router: testRouter()) { server, _ in
            let raw = try RawConnection(path: server.socketPath)
            try await raw.sendFrame(streamID: 1, type: 0x09, body: [1, 2, 3])
            try await raw.sendRequest(streamID: 3, service: "test.Echo", method: "Echo")
            #expect(try await raw.readFrame().streamID == 3)
        }
    }

    @Test("an oversized body is skipped, answered RESOURCE_EXHAUSTED, and the connection stays usable")
    func oversizedSkipped() async throws {
        try await withRPCServer(router: testRouter()) { server, _ in
            let raw = try RawConnection(path: server.socketPath)
            let size = FrameHeader.maxBodySize + 1_000_000
            try await raw.sendFrame(streamID: 1, body: [UInt8](repeating: 0x41, count: size))
            let refused = try await raw.readFrame()
            #expect(refused.streamID == 1)
            #expect(try refused.response().status?.code == StatusCode.resourceExhausted.rawValue)
            try await raw.sendRequest(streamID: 3, service: "test.Echo", method: "Echo", payload: TTRPCKeyValue(key: "after").serializedBytes())
            let after = try await raw.readFrame()
            #expect(after.streamID == 3)
            #expect(try TTRPCKeyValue(serializedBytes: after.response().payload).key == "after")
        }
    }

    @Test("a header declaring 4 GiB is refused at once; other connections keep being served")
    func fourGiBHeader() async throws {
        try await withRPCServer(router: testRouter()) { server, client in
            let raw = try RawConnection(path: server.socketPath)
            try await raw.send(RawConnection.header(length: .max, streamID: 1) + [UInt8](repeating: 0, count: 65_536))
            let refused = try await raw.readFrame()
            #expect(try refused.response().status?.code == StatusCode.resourceExhausted.rawValue)
            for i in 0..<20 {
                let reply: TTRPCKeyValue = try await client.unary(service: echo.service, method: echo.method, request: TTRPCKeyValue(key: "\(i)"))
                #expect(reply.key == "\(i)")
            }
        }
    }

    @Test("a peer that stops mid-frame is disconnected after the partial-frame timeout")
    func partialFrameTimeout() async throws {
        try await withRPCServer(router: testRouter(), configure: { $0.partialFrameTimeout = .milliseconds(200) }) { server, client in
            let raw = try RawConnection(path: server.socketPath)
            try await raw.send([0, 0, 0, 20, 0, 0, 0, 1, 1, 0, 1, 2])
            #expect(await raw.isClosedByPeer(within: 3))
            let reply: TTRPCKeyValue = try await client.unary(service: echo.service, method: echo.method, request: TTRPCKeyValue(key: "still"))
            #expect(reply.key == "still")
        }
    }

    @Test("calls past the per-connection limit wait for a place (backpressure), then all answer OK")
    func inFlightLimit() async throws {
        let gate = Latch()
        defer { gate.open() }
        try await withRPCServer(router: testRouter(gate: gate), configure: { $0.maxConcurrentCallsPerConnection = 2 }) { server, _ in
            let raw = try RawConnection(path: server.socketPath)
            for id in [1, 3, 5] as [UInt32] {
                try await raw.sendRequest(streamID: id, service: "test.Echo", method: "Wait", payload: TTRPCKeyValue().serializedBytes())
            }
            try await waitUntil { gate.waiting == 2 }
            // The third call waits for a place: it does not start, and is not refused.
            let deadline = ContinuousClock.now + .milliseconds(300)
            while ContinuousClock.now < deadline {
                #expect(gate.waiting <= 2)
                try await Task.sleep(for: .milliseconds(10))
            }
            gate.open()
            let frames = [try await raw.readFrame(), try await raw.readFrame(), try await raw.readFrame()]
            #expect(Set(frames.map(\.streamID)) == [1, 3, 5])
            #expect(try frames.allSatisfy { try $0.response().status?.code ?? 0 == 0 })
        }
    }

    @Test("a burst of requests waiting behind a held place, each answered without suspending, all answer in order")
    func burstBehindHeldPlace() async throws {
        let gate = Latch()
        defer { gate.open() }
        try await withRPCServer(router: testRouter(gate: gate), configure: { $0.maxConcurrentCallsPerConnection = 1 }) { server, _ in
            let raw = try RawConnection(path: server.socketPath)
            try await raw.sendRequest(streamID: 1, service: "test.Echo", method: "Wait", payload: TTRPCKeyValue().serializedBytes())
            try await waitUntil { gate.waiting == 1 }
            // One write of 3,000 small requests: the server reads them while
            // the place is held, so they wait; once it is freed each runs to
            // its end inside the loop that starts the next (no deeper stack).
            let ids = (1...3_000).map { UInt32(2 * $0 + 1) }
            var burst: [UInt8] = []
            for id in ids {
                let body = TTRPCRequest(service: "test.Echo", method: "Echo", payload: TTRPCKeyValue(key: "k\(id)").serializedBytes())
                    .serializedBytes()
                burst += RawConnection.header(length: UInt32(body.count), streamID: id) + body
            }
            try await raw.send(burst)
            gate.open()
            var answered: [UInt32] = []
            for _ in 0...ids.count {
                let frame = try await raw.readFrame()
                #expect(try frame.response().status?.code ?? 0 == 0)
                if frame.streamID != 1 {
                    #expect(try TTRPCKeyValue(serializedBytes: frame.response().payload).key == "k\(frame.streamID)")
                }
                answered.append(frame.streamID)
            }
            #expect(answered == [1] + ids)
        }
    }

    @Test("connections past the limit are closed at once; a freed place is reusable")
    func connectionLimit() async throws {
        try await withRPCServer(router: testRouter(), configure: { $0.maxConnections = 2 }) { server, _ in
            var held: [RawConnection] = []
            for i in 0..<2 {
                let raw = try RawConnection(path: server.socketPath)
                try await raw.sendRequest(streamID: 1, service: "test.Echo", method: "Echo")
                _ = try await raw.readFrame()
                held.append(raw)
                #expect(server.connectionCount == i + 1)
            }
            let extra = try RawConnection(path: server.socketPath)
            #expect(await extra.isClosedByPeer(within: 3))
            held.removeLast()
            try await waitUntil { server.connectionCount == 1 }
            let again = try RawConnection(path: server.socketPath)
            try await again.sendRequest(streamID: 1, service: "test.Echo", method: "Echo")
            #expect(try await again.readFrame().streamID == 1)
        }
    }

    @Test("graceful shutdown lets an in-flight call finish, refuses new work and removes the socket")
    func gracefulShutdown() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.appending("s.sock")
        let started = StartedCalls()
        let server = try await RPCServer.start(configuration: .init(socketPath: path), router: testRouter(started: started), logger: silentLogger)
        let raw = try RawConnection(path: path)
        try await raw.sendRequest(streamID: 1, service: "test.Echo", method: "Sleep", payload: TTRPCKeyValue(key: "inflight", value: "400").serializedBytes())
        try await waitUntil { started.value == 1 }
        async let shutdown: Void = server.shutdownGracefully()
        let frame = try await raw.readFrame()
        #expect(frame.streamID == 1)
        #expect(try TTRPCKeyValue(serializedBytes: frame.response().payload).key == "inflight")
        await shutdown
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(throws: RawConnection.Failure.self) { try RawConnection(path: path) }
    }

    @Test("a stale socket file is replaced; a live server or a regular file at the path is refused")
    func socketPathGuard() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.appending("s.sock")
        // A stale socket: bound by a process that is gone.
        let stale = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in raw.copyBytes(from: Array(path.utf8) + [0]) }
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(stale, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        close(stale)
        #expect(FileManager.default.fileExists(atPath: path))

        let server = try await RPCServer.start(configuration: .init(socketPath: path), router: testRouter(), logger: silentLogger)
        do {
            _ = try await RPCServer.start(configuration: .init(socketPath: path), router: testRouter(), logger: silentLogger)
            Issue.record("a second server started on a live socket")
        } catch let error as RPCServer.StartError {
            #expect(error.description.contains("already listening"))
        }
        await server.shutdownGracefully()

        let file = directory.appending("file")
        #expect(FileManager.default.createFile(atPath: file, contents: Data("keep me".utf8)))
        do {
            _ = try await RPCServer.start(configuration: .init(socketPath: file), router: testRouter(), logger: silentLogger)
            Issue.record("started over a regular file")
        } catch let error as RPCServer.StartError {
            #expect(error.description.contains("not a socket"))
        }
        #expect(FileManager.default.contents(atPath: file) == Data("keep me".utf8))
    }

    @Test("the socket file gets the configured mode", arguments: [0o660, 0o600] as [UInt32])
    func socketMode(mode: UInt32) async throws {
        try await withRPCServer(router: testRouter(), configure: { $0.socketMode = mode }) { server, _ in
            let attributes = try FileManager.default.attributesOfItem(atPath: server.socketPath)
            #expect((attributes[.posixPermissions] as? NSNumber)?.uint32Value == mode)
        }
    }

    @Test("a client reconnects after the server restarts; calls while it is down fail UNAVAILABLE")
    func reconnect() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.appending("s.sock")
        let client = MarketplaceClient(socketPath: path)
        var server = try await RPCServer.start(configuration: .init(socketPath: path), router: testRouter(), logger: silentLogger)
        let first: TTRPCKeyValue = try await client.unary(service: echo.service, method: echo.method, request: TTRPCKeyValue(key: "1"))
        #expect(first.key == "1")
        await server.shutdownGracefully()
        do {
            let _: TTRPCKeyValue = try await client.unary(service: echo.service, method: echo.method, request: TTRPCKeyValue())
            Issue.record("call succeeded with the server down")
        } catch {
            #expect(error.code == .unavailable)
            #expect(error.message.contains(path))
        }
        server = try await RPCServer.start(configuration: .init(socketPath: path), router: testRouter(), logger: silentLogger)
        let again: TTRPCKeyValue = try await client.unary(service: echo.service, method: echo.method, request: TTRPCKeyValue(key: "2"))
        #expect(again.key == "2")
        await client.close()
        await server.shutdownGracefully()
    }
}

/// Polls `condition` for up to `seconds`.
func waitUntil(seconds: Double = 5, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("condition not met within \(seconds) s")
            return
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}
